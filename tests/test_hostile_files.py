"""Hostile loader inputs and planted symbolic links (issue 15).

Loaders: deeply nested JSON or TOML, an integer written with a superscript digit, a signature
image that is a FIFO, a history of 20,000 events. Files: a symbolic link planted at every name
consentkit writes is never followed.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from consentkit import load_client, load_practice
from consentkit._files import atomic_write, write_new, write_private
from consentkit.batch import REPORT_CSV, REPORT_JSON, generate_packets
from consentkit.batch._lock import LOCK_NAME
from consentkit.errors import ConsentKitError, InputError, OutputExistsError
from consentkit.models import Practice
from consentkit.signing import load_signatures

from .conftest import EXAMPLES

SIGNATURES = EXAMPLES / "signatures"
DEEP = 100_000


def _signature_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SIGNATURES / "C-1002.json").read_text(encoding="utf-8"))
    return data


# --- loaders ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["client.json", "client.toml", "practice.json", "practice.toml", "sigs.json"]
)
def test_deeply_nested_input_is_an_input_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / kind
    if kind.endswith(".json"):
        path.write_text('{"id": ' + "[" * DEEP + "]" * DEEP + "}", encoding="utf-8")
    else:
        path.write_text("id = " + "[" * DEEP + "]" * DEEP + "\n", encoding="utf-8")
    loader = (
        load_signatures
        if kind.startswith("sigs")
        else load_client
        if kind.startswith("client")
        else load_practice
    )
    with pytest.raises(InputError, match="nested more than"):
        loader(path)


@pytest.mark.parametrize("depth", [40, 900])
def test_nesting_within_the_parser_but_past_the_limit_is_refused(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "client.json"
    path.write_text('{"id": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_client(path)
    assert "nested more than 32 levels" in str(caught.value)
    assert caught.value.field is not None and caught.value.field.startswith("id.1.1")


def test_a_superscript_digit_in_an_integer_field_names_the_field_and_not_the_value(tmp_path: Path) -> None:
    text = (EXAMPLES / "practice.toml").read_text(encoding="utf-8")
    path = tmp_path / "practice.toml"
    path.write_text(text.replace("cancellation_notice_hours = 24", 'cancellation_notice_hours = "\u00b2"'))
    with pytest.raises(InputError) as caught:
        load_practice(path)
    assert caught.value.field == "fees.cancellation_notice_hours"
    assert "\u00b2" not in str(caught.value)


def test_a_signature_image_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    data = _signature_data()
    os.mkfifo(tmp_path / "C-1002-client.png")
    (tmp_path / "sigs.json").write_text(json.dumps(data), encoding="utf-8")
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_signatures(tmp_path / "sigs.json")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():  # release the blocked reader before failing
        fd = os.open(tmp_path / "C-1002-client.png", os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(10)
        pytest.fail("load_signatures blocked on a FIFO")
    assert isinstance(outcome[0], InputError)
    assert outcome[0].field == "signers.1.image" and "not a regular file" in str(outcome[0])


def test_a_signature_image_behind_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.png").write_bytes((SIGNATURES / "C-1002-client.png").read_bytes())
    (tmp_path / "C-1002-client.png").symlink_to(tmp_path / "elsewhere.png")
    (tmp_path / "sigs.json").write_text(json.dumps(_signature_data()), encoding="utf-8")
    with pytest.raises(InputError, match="symbolic link") as caught:
        load_signatures(tmp_path / "sigs.json")
    assert caught.value.field == "signers.1.image"


def _events(count: int) -> list[dict[str, str]]:
    event = {"at": "2026-11-27T17:00:00Z", "actor": "system", "action": "viewed", "user_agent": "x" * 40}
    return [dict(event) for _ in range(count)]


def test_too_many_events_are_refused_before_anything_is_built(tmp_path: Path) -> None:
    data = _signature_data()
    data["events"] = _events(20_000)
    (tmp_path / "sigs.json").write_text(json.dumps(data), encoding="utf-8")
    for name in ("C-1002-client.png",):
        (tmp_path / name).write_bytes((SIGNATURES / name).read_bytes())
    with pytest.raises(InputError) as caught:
        load_signatures(tmp_path / "sigs.json")
    assert caught.value.field == "events" and "more than 500 entries" in str(caught.value)


def test_a_huge_signatures_file_is_refused_by_its_size(tmp_path: Path) -> None:
    data = _signature_data()
    data["events"] = _events(200_000)
    (tmp_path / "sigs.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="larger than 8 MB"):
        load_signatures(tmp_path / "sigs.json")


def test_the_event_limit_holds_for_signatures_built_in_code() -> None:
    from consentkit.signing import signatures_from_dict

    data = _signature_data()
    data["signers"] = [s for s in data["signers"] if s["method"] == "typed"]
    data["events"] = _events(501)
    with pytest.raises(InputError) as caught:
        signatures_from_dict(copy.deepcopy(data))
    assert caught.value.field == "events"


# --- symbolic links planted where consentkit writes ------------------------------------------


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    return victim


def test_a_link_at_the_batch_lock_is_never_followed(tmp_path: Path, practice: Practice) -> None:
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).symlink_to(victim)
    with pytest.raises(OutputExistsError, match="symbolic link"):
        list(generate_packets(practice, [], out))
    assert victim.read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize("name", [REPORT_CSV, REPORT_JSON])
def test_a_link_at_a_report_is_replaced_not_followed(tmp_path: Path, practice: Practice, name: str) -> None:
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    list(generate_packets(practice, [], out))
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not (out / name).is_symlink() and (out / name).is_file()


def test_the_file_helpers_never_write_through_a_link(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    for name, write in (
        ("private", lambda p: write_private(p, b"x")),
        ("new", lambda p: write_new(p, b"x")),
        ("atomic", lambda p: atomic_write(p, b"x")),
    ):
        link = tmp_path / name
        link.symlink_to(victim)
        with contextlib.suppress(OSError, ConsentKitError):
            write(link)
        assert victim.read_text(encoding="utf-8") == "precious", name


def test_a_link_at_a_session_log_is_never_followed(tmp_path: Path, practice: Practice) -> None:
    from consentkit.lifecycle import append_session, check_session

    from .test_lifecycle_sessions import reported

    adult = load_client(EXAMPLES / "clients" / "adult.toml")
    victim = _victim(tmp_path)
    log = tmp_path / "C-1001.jsonl"
    log.symlink_to(victim)
    with pytest.raises(InputError, match="symbolic link"):
        append_session(log, check_session(practice, adult, reported(adult, adult.session_address)))
    assert victim.read_text(encoding="utf-8") == "precious"
