"""Shared fixtures: the bundled examples, and one LibreOffice converter for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from consentkit import load_client, load_practice
from consentkit.models import Client, Practice

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: A fixed document date keeps ages (the minor is 15) and formatted dates stable.
DOC_DATE = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def practice() -> Practice:
    return load_practice(EXAMPLES / "practice.toml")


@pytest.fixture(scope="session")
def example_clients() -> dict[str, Client]:
    return {path.stem: load_client(path) for path in sorted((EXAMPLES / "clients").glob("*.toml"))}


@pytest.fixture(scope="session")
def converter() -> Iterator[object]:
    from consentkit.convert import LibreOfficeConverter

    with LibreOfficeConverter(timeout=180) as conv:
        yield conv


@pytest.fixture(scope="session")
def rendered_examples(
    tmp_path_factory: pytest.TempPathFactory,
    practice: Practice,
    example_clients: dict[str, Client],
    converter: object,
) -> dict[str, Path]:
    """Every example client rendered once through the real pipeline."""
    from consentkit import render_packet

    out = tmp_path_factory.mktemp("rendered")
    folders = {}
    for name, client in example_clients.items():
        result = render_packet(
            practice,
            client,
            out / client.id,
            on=DOC_DATE,
            now=NOW,
            packet_id=f"PKT-{client.id}",
            converter=converter,
        )  # type: ignore[arg-type]
        folders[name] = result.out_dir
    return folders


#: The test files that take longest, run first: ``make test`` runs the suite in two processes,
#: one file at a time each (``--dist loadfile``), and a long file left for last keeps one process
#: busy while the other waits (the longest first makes them finish together).
LONGEST_FIRST = (
    "test_warm.py",
    "test_packet_truth.py",
    "test_batch.py",
    "test_signing_finalize.py",
    "test_composed.py",
    "test_locale.py",
    "test_jurisdiction.py",
    "test_hostile_faults.py",
    "test_signing_locale.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
