"""Batch generation without LibreOffice: folder names, input hashes, completeness checks, leftovers,
chunk sizes and report files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import deque
from datetime import date
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentkit.batch import BatchResult, safe_folder_name, write_report_csv, write_report_json
from consentkit.batch._core import _take_chunk
from consentkit.batch._names import FolderNames, hashed_folder_name
from consentkit.batch._resume import INPUTS_KEY, clean_stale, inputs_sha256, plain_form, verified_outputs
from consentkit.batch._worker import Item
from consentkit.models import Client, Practice
from consentkit.rendering import load_template_set

from .batch_support import write_fake_manifest

SAFE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


@pytest.mark.parametrize(
    ("client_id", "expected"),
    [
        ("C-1001", "C-1001"),
        ("client_7.2", "client_7.2"),
        ("../../etc", "_.._etc-74ccf3c5b4"),
        ("a/b", "a_b-c14cddc033"),
        ("CON", "CON-a3dbc4b644"),
        ("nul.txt", "nul.txt-7f3cbdd58a"),
        ("report.csv", "report.csv-f6bcd0c39a"),
        ("..", "client-5ec1f7e700"),
        ("", "client-e3b0c44298"),
    ],
)
def test_folder_names_keep_safe_ids_and_hash_the_rest(client_id: str, expected: str) -> None:
    assert safe_folder_name(client_id) == expected


@given(st.text(max_size=400))
def test_any_client_id_gives_one_safe_path_component(client_id: str) -> None:
    name = safe_folder_name(client_id)
    assert SAFE.match(name) and not name.endswith(".")
    assert len(name) <= 64 + 11
    assert name == safe_folder_name(client_id)
    assert (name == client_id) or name.endswith(
        "-" + hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    )
    assert Path("/out", name).parent == Path("/out")


@given(st.lists(st.text(alphabet="aAbB/._-x\x00É", max_size=6), max_size=30))
def test_a_batch_never_gives_two_clients_the_same_folder(client_ids: list[str]) -> None:
    names = FolderNames()
    claimed = {client_id: names.claim(client_id, lambda _name: None) for client_id in client_ids}
    folded = [name.casefold() for name in claimed.values() if name is not None]
    assert len(folded) == len(set(folded))
    assert all(name is not None for name in claimed.values())


def test_case_clashes_and_foreign_folders_get_the_hashed_name() -> None:
    names = FolderNames()
    assert names.claim("C-1", lambda _name: None) == "C-1"
    assert names.claim("c-1", lambda _name: None) == hashed_folder_name("c-1")
    assert names.claim("C-1", lambda _name: None) == "C-1"
    # The plain folder on disk holds another client's packet (say, from an earlier batch).
    assert names.claim("D-1", lambda name: "someone-else" if name == "D-1" else None) == hashed_folder_name(
        "D-1"
    )


def test_inputs_hash_follows_client_practice_templates_and_date(
    practice: Practice, example_clients: dict[str, Client], tmp_path: Path
) -> None:
    client = example_clients["adult"]
    templates = load_template_set("en-US")
    base = inputs_sha256(practice, client, templates, options={"on": None})
    assert base == inputs_sha256(practice, client, templates, options={"on": None})
    changed_client = attrs.evolve(client, email="someone.else@example.com")
    assert inputs_sha256(practice, changed_client, templates, options={"on": None}) != base
    assert (
        inputs_sha256(attrs.evolve(practice, name="Other Practice"), client, templates, options={"on": None})
        != base
    )
    assert inputs_sha256(practice, client, templates, options={"on": date(2026, 1, 1)}) != base
    hashes = {name: "0" * 64 for name in ("templates.toml", "clauses.toml")}
    assert inputs_sha256(practice, client, templates, options={"on": None}, template_hashes=hashes) != base
    # The practice's form computed once per batch hashes exactly as the practice itself.
    form = plain_form(practice)
    assert inputs_sha256(practice, client, templates, options={"on": None}, practice_form=form) == base
    other = plain_form(attrs.evolve(practice, name="Other Practice"))
    assert inputs_sha256(practice, client, templates, options={"on": None}, practice_form=other) != base


def _fake_packet(folder: Path, inputs: str) -> None:
    """A packet folder shaped like a finished one (files are not real PDFs; only hashes count)."""
    folder.mkdir(parents=True)
    files = {
        f"{name}.{suffix}": f"{name} {suffix}".encode() for name in ("a", "b") for suffix in ("docx", "pdf")
    }
    files["packet.pdf"] = b"packet"
    for name, data in files.items():
        (folder / name).write_bytes(data)
    write_fake_manifest(folder, client_id=folder.name, inputs=inputs, files=files)
    assert json.loads((folder / "manifest.json").read_text())[INPUTS_KEY] == inputs


def test_a_packet_counts_as_complete_only_with_every_file_intact(tmp_path: Path) -> None:
    folder = tmp_path / "C-1"
    _fake_packet(folder, "abc")
    found = verified_outputs(folder, "abc")
    assert found is not None
    assert sorted(found.hashes) == sorted(
        f"C-1/{n}" for n in ("a.docx", "a.pdf", "b.docx", "b.pdf", "packet.pdf", "manifest.json")
    )
    assert verified_outputs(folder, "other inputs") is None
    (folder / "b.pdf").write_bytes(b"tampered")
    assert verified_outputs(folder, "abc") is None
    (folder / "b.pdf").unlink()
    assert verified_outputs(folder, "abc") is None
    assert verified_outputs(tmp_path / "missing", "abc") is None


def test_stale_leftovers_are_removed_and_nothing_else(tmp_path: Path) -> None:
    for name in (".C-1.staging-abc", ".C-2.old-123", ".consentkit-chunk-x", "C-3", ".keep-me"):
        (tmp_path / name).mkdir()
    (tmp_path / ".report.csv.x1.tmp").write_text("half")
    (tmp_path / "notes.txt").write_text("mine")
    assert clean_stale(tmp_path) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep-me", "C-3", "notes.txt"]


def _items(documents: list[int], client: Client) -> deque[Item]:
    return deque(
        Item(row=n, client=client, folder=str(n), inputs_sha256="", template_hashes={}, documents=d)
        for n, d in enumerate(documents)
    )


def test_chunks_fill_libreoffice_calls_then_shrink_so_workers_finish_together(
    example_clients: dict[str, Client],
) -> None:
    queue = _items([5] * 200, example_clients["adult"])
    remaining = 1000
    sizes = []
    while queue:
        chunk = _take_chunk(queue, remaining, 2, 200)
        sizes.append(sum(item.documents for item in chunk))
        remaining -= sizes[-1]
    assert sizes == [200, 200, 200, 200, 100, 50, 50]
    # A client is never split, even when it alone is more than a call takes.
    assert [len(_take_chunk(_items([7, 7], example_clients["adult"]), 14, 1, 5))] == [1]


def test_report_files_hold_every_row_sorted(tmp_path: Path) -> None:
    results = [
        BatchResult(row=3, client_id="C-2", folder="C-2", status="failed", error="row 3, phone: not valid"),
        BatchResult(
            row=2,
            client_id="C-1",
            folder="C-1",
            status="ok",
            warnings=["a", "b"],
            hashes={"C-1/packet.pdf": "aa", "C-1/manifest.json": "bb"},
            seconds=1.23456,
        ),
        BatchResult(row=4, client_id=None, folder=None, status="failed", error="fewer cells"),
    ]
    write_report_csv(results, tmp_path / "report.csv")
    write_report_json(results, tmp_path / "report.json", seconds=2.5)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text(encoding="utf-8"))))
    assert [r["row"] for r in rows] == ["2", "3", "4"]
    assert rows[0] == {
        "row": "2",
        "client_id": "C-1",
        "folder": "C-1",
        "status": "ok",
        "error": "",
        "warnings": "a;b",
        "outputs": "C-1/packet.pdf;C-1/manifest.json",
        "sha256": "aa;bb",
        "seconds": "1.235",
        "note": "",
    }
    assert rows[2]["client_id"] == "" and rows[2]["error"] == "fewer cells"
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["schema"] == "consentkit.batch-report/1"
    assert report["summary"] == {"rows": 3, "ok": 1, "skipped": 0, "failed": 2, "blank": 0, "seconds": 2.5}
    assert report["results"][0]["sha256"] == {"C-1/packet.pdf": "aa", "C-1/manifest.json": "bb"}
