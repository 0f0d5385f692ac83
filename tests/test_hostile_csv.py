"""Hostile clients CSV files and batch rows (issue 15): nothing hangs or grows without bound, no
row is lost, every row is reported where it is, and nothing a spreadsheet would run is written.

These run no LibreOffice: the rows fail, or are skipped, before any conversion.
"""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path

import pytest

from consentkit import iter_clients_csv
from consentkit.batch import REPORT_CSV, BatchResult, generate_packets, write_report_csv
from consentkit.errors import InputError
from consentkit.loaders import ClientRow
from consentkit.models import Practice

from .batch_support import write_clients_csv, write_fake_manifest
from .cli_support import run_cli
from .conftest import DOC_DATE, EXAMPLES

ONE = ["emergency_plan"]
HEADER = "id,legal_name,date_of_birth,phone,device,connection,session_address.line1,"
HEADER += "session_address.city,session_address.state,session_address.postal_code,"
HEADER += "emergency_contact.name,emergency_contact.relationship,emergency_contact.phone"


def _row(client_id: str, name: str = "Pat Doe", state: str = "MS", born: str = "1990-01-01") -> str:
    return (
        f"{client_id},{name},{born},601-555-0100,computer,home_wifi,1 Main St,Jackson,{state},39201,"
        "Sam Doe,friend,601-555-0101"
    )


def _rows(path: Path, encoding: str | None = None) -> list[ClientRow]:
    if encoding is None:
        return list(iter_clients_csv(path))
    return list(iter_clients_csv(path, encoding=encoding))


def test_half_a_utf8_character_at_the_end_is_that_rows_error_not_an_endless_loop(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,legal_name\nC-1,Bob\n\xc3")
    tracemalloc.start()
    try:
        rows = _rows(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.row for r in rows] == [2, 3]
    assert rows[1].error is not None and "not utf-8 text" in str(rows[1].error)
    assert str(rows[1].error).startswith("t.csv row 3:")
    assert peak < 5_000_000


def test_a_latin1_byte_after_8kb_fails_only_its_row_and_loses_no_other(tmp_path: Path) -> None:
    lines = [HEADER] + [_row(f"C-{n:03d}", name=f"Person Number{n:03d} " + "x" * 60) for n in range(60)]
    lines[45] = _row("C-044", name="Jos\xe9 Mart\xednez")  # row 46 in a spreadsheet, past 8 KB
    data = "\n".join(lines).encode("latin-1") + b"\n"
    assert data.index(b"\xe9") > 8192
    path = tmp_path / "latin1.csv"
    path.write_bytes(data)
    rows = _rows(path)
    assert [r.row for r in rows] == list(range(2, 62))
    failed = [r for r in rows if r.error is not None]
    assert [r.row for r in failed] == [46]
    assert "row 46" in str(failed[0].error) and "Jos" not in str(failed[0].error)
    assert failed[0].data == {"id": "C-044"}  # the report still shows whose row it is


def test_a_declared_encoding_reads_a_spreadsheet_export(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(("\n".join([HEADER, _row("C-1", name="Zo\xeb \u2019Brien")]) + "\n").encode("cp1252"))
    rows = _rows(path, encoding="cp1252")
    assert rows[0].client is not None and rows[0].client.legal_name == "Zo\xeb \u2019Brien"
    with pytest.raises(InputError, match="unknown text encoding"):
        _rows(path, encoding="no-such-codec")


def test_batch_cli_takes_encoding(tmp_path: Path) -> None:
    from consentkit.cli import build_parser

    args = build_parser().parse_args(
        ["batch", "--practice", "p", "--clients", "c", "--out", "o", "--encoding", "cp1252"]
    )
    assert args.encoding == "cp1252"


@pytest.mark.parametrize("column", ["guardians.999999999.email", "guardians.51.email"])  # at most 50
def test_a_huge_list_index_in_a_column_name_is_refused_without_allocating(
    tmp_path: Path, column: str
) -> None:
    path = tmp_path / "index.csv"
    path.write_text(f"{HEADER},{column}\n{_row('C-1')},x@example.com\n", encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as caught:
            _rows(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.row == 1 and caught.value.field == column
    assert peak < 5_000_000


def test_a_superscript_digit_in_a_column_name_is_an_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "sup.csv"
    path.write_text(f"{HEADER},guardians.\u00b2.email\n{_row('C-1')},x@example.com\n", encoding="utf-8")
    (row,) = _rows(path)
    assert row.error is not None and row.error.row == 2


def test_blank_rows_and_empty_lines_each_get_a_report_line(tmp_path: Path, practice: Practice) -> None:
    path = tmp_path / "blank.csv"
    # Row 2 fails (no such state), row 3 is blank cells, row 4 an empty line, row 5 fails.
    text = "\n".join([HEADER, _row("C-1", state="ZZ"), "," * 12, "", _row("C-2", state="ZZ")]) + "\n"
    path.write_text(text, encoding="utf-8")
    rows = _rows(path)
    assert [(r.row, r.blank) for r in rows] == [(2, False), (3, True), (4, True), (5, False)]
    out = tmp_path / "out"
    results = list(generate_packets(practice, rows, out, workers=1, template_ids=ONE))
    assert sorted((r.row, r.status, r.note) for r in results) == [
        (2, "failed", ""),
        (3, "skipped", "blank"),
        (4, "skipped", "blank"),
        (5, "failed", ""),
    ]
    report = list(csv.DictReader(io.StringIO((out / REPORT_CSV).read_text(encoding="utf-8"))))
    assert [(r["row"], r["status"], r["note"]) for r in report] == [
        ("2", "failed", ""),
        ("3", "skipped", "blank"),
        ("4", "skipped", "blank"),
        ("5", "failed", ""),
    ]
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]
    assert summary["rows"] == 4 and summary["blank"] == 2


def test_a_resumed_run_keeps_the_skipped_rows_warnings(tmp_path: Path, practice: Practice) -> None:
    clients = write_clients_csv(tmp_path / "clients.csv")
    rows = [r for r in _rows(clients) if r.client is not None and r.client.id == "C-1003"]
    out = tmp_path / "out"
    # Learn the folder and the inputs hash, then lay a complete packet there as an earlier run
    # would have left it (no LibreOffice needed: the row is skipped).
    from consentkit.batch._core import _Planner

    planner = _Planner(
        practice, out, language=None, on=DOC_DATE, template_ids=ONE, include_english=False, force=False
    )
    item = planner.plan(0, rows[0])
    assert not isinstance(item, BatchResult)
    folder = out / item.folder
    folder.mkdir(parents=True)
    files = {"emergency_plan.docx": b"docx", "emergency_plan.pdf": b"pdf", "packet.pdf": b"packet"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    write_fake_manifest(
        folder,
        client_id=rows[0].client.id if rows[0].client else "",
        inputs=item.inputs_sha256,
        files=files,
        warnings=("the es-US translation has not been reviewed by a qualified translator",),
    )
    (result,) = generate_packets(practice, rows, out, workers=1, template_ids=ONE, on=DOC_DATE)
    assert result.status == "skipped"
    assert result.warnings == ("the es-US translation has not been reviewed by a qualified translator",)
    report = list(csv.DictReader(io.StringIO((out / REPORT_CSV).read_text(encoding="utf-8"))))
    assert "not been reviewed" in report[0]["warnings"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"clinician_id": "nobody"}, "clinician_id: no clinician of the practice has this id"),
        ({"session_address.state": "AK"}, ""),  # the clinician holds no license in Alaska
        ({"date_of_birth": "2015-01-01"}, ""),  # a minor with no guardian
    ],
    ids=["unknown-clinician", "no-license-there", "minor-without-guardian"],
)
def test_errors_raised_while_rendering_name_the_row_and_no_folder(
    tmp_path: Path, practice: Practice, edit: dict[str, str], expected: str
) -> None:
    clients = write_clients_csv(tmp_path / "clients.csv", edit={"C-1001": edit})
    rows = [r for r in _rows(clients) if r.row == 2]
    assert rows[0].client is not None, rows[0].error
    out = tmp_path / "out"
    (result,) = generate_packets(practice, rows, out, workers=1, template_ids=ONE)
    assert result.status == "failed"
    assert result.error.startswith("clients.csv row 2"), result.error
    assert expected in result.error
    assert result.folder is None
    assert not (out / "C-1001").exists()


def test_report_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    hostile = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    results = [
        BatchResult(row=n, client_id=value, folder=None, status="failed", error=value, warnings=[value])
        for n, value in enumerate(hostile, start=2)
    ]
    write_report_csv(results, tmp_path / "report.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "report.csv").read_text(encoding="utf-8"))))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert rows[1][1] == '\'=HYPERLINK("http://x","y")'


def test_control_characters_in_client_ids_never_reach_the_terminal(tmp_path: Path) -> None:
    clients = tmp_path / "clients.csv"
    hostile = "C-9\nrow 99 C-1: ok\x1b[2J"
    with clients.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerow([hostile, *_row("x").split(",")[1:3], "12", *_row("x").split(",")[4:]])
    done = run_cli(
        "batch",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--clients",
        str(clients),
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "1",
    )
    assert done.returncode == 1, done.stderr
    # Per-row lines are diagnostics: standard error.
    assert done.stderr.splitlines()[0] == (
        "row 2 C-9\\nrow 99 C-1: ok\\x1b[2J: failed: clients.csv row 2, phone: not a valid phone number"
    )
    assert "\x1b" not in done.stdout and "\x1b" not in done.stderr
