"""Helpers for the batch tests: CSV files, fake ``soffice`` wrappers around the real one, checks."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
import sys
from pathlib import Path

from consentkit.batch._resume import INPUTS_KEY, verified_outputs
from consentkit.convert import find_soffice
from consentkit.pdf.archival import check_archival

from .conftest import EXAMPLES

#: A client whose documents contain this text makes the hanging fake soffice hang.
HANG_MARKER = "Hangwell"

_HANGING = """#!{python}
# Hangs (like a stuck LibreOffice) when a document holds the marker; else runs the real soffice.
import os, sys, time, zipfile
args = sys.argv[1:]
for arg in args:
    if arg.endswith(".docx"):
        with zipfile.ZipFile(arg) as archive:
            if {marker!r}.encode() in archive.read("word/document.xml"):
                time.sleep(3600)
os.execv({real!r}, [{real!r}, *args])
"""

_DROPPING = """#!{python}
# Runs the real soffice, then on its first call deletes the first output, exiting 0: the
# "multi-file call silently skipped a document" failure seen with LibreOffice.
import pathlib, subprocess, sys
args = sys.argv[1:]
counter = pathlib.Path({counter!r})
calls = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(calls))
subprocess.run([{real!r}, *args], check=False)
if calls == 1:
    out = pathlib.Path(args[args.index("--outdir") + 1])
    first = next(a for a in args if a.endswith(".docx"))
    (out / (pathlib.Path(first).stem + ".pdf")).unlink(missing_ok=True)
"""


def _script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def hanging_soffice(folder: Path) -> Path:
    """A ``soffice`` that hangs on documents holding :data:`HANG_MARKER`."""
    return _script(
        folder / "soffice-hangs",
        _HANGING.format(python=sys.executable, marker=HANG_MARKER, real=str(find_soffice())),
    )


def dropping_soffice(folder: Path) -> tuple[Path, Path]:
    """A ``soffice`` whose first call silently drops one output; and its call counter file."""
    counter = folder / "calls"
    return _script(
        folder / "soffice-drops",
        _DROPPING.format(python=sys.executable, counter=str(counter), real=str(find_soffice())),
    ), counter


def write_clients_csv(
    path: Path,
    *,
    extra_rows: list[dict[str, str]] | None = None,
    edit: dict[str, dict[str, str]] | None = None,
) -> Path:
    """The example clients (edited per id), followed by ``extra_rows``."""
    with (EXAMPLES / "clients.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        row.update((edit or {}).get(row["id"], {}))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows([*rows, *(extra_rows or [])])
    return path


def processes_running(needle: str) -> list[int]:
    """Live processes whose command line contains ``needle`` (zombies excepted)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            state = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def visible_entries(out_dir: Path) -> list[Path]:
    return sorted(p for p in out_dir.iterdir() if not p.name.startswith("."))


def assert_complete_packet(folder: Path, *, archival: bool = False) -> dict[str, object]:
    """The folder is a complete packet: every file listed in its manifest, with its hash."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert verified_outputs(folder, manifest[INPUTS_KEY]) is not None, folder.name
    if archival:
        for pdf in sorted(folder.glob("*.pdf")):
            assert check_archival(pdf, part=3) == [], pdf  # qpdf --check included
    return manifest


def write_fake_manifest(
    folder: Path,
    *,
    client_id: str,
    inputs: str,
    files: dict[str, bytes],
    warnings: tuple[str, ...] = (),
) -> None:
    """A manifest.json as a finished batch packet has it, for ``files`` (``<doc>.docx`` and
    ``<doc>.pdf`` pairs and ``packet.pdf``, written by the caller): only the hashes count."""
    from datetime import date

    from consentkit.records import DocumentEntry, Manifest, PacketFile

    def sha(name: str) -> str:
        return hashlib.sha256(files[name]).hexdigest()

    stems = sorted({Path(n).stem for n in files if n != "packet.pdf"})
    documents = tuple(
        DocumentEntry(
            id=stem,
            title=stem,
            docx=f"{stem}.docx",
            docx_sha256=sha(f"{stem}.docx"),
            pdf=f"{stem}.pdf",
            pdf_sha256=sha(f"{stem}.pdf"),
            pages=1,
            packet_pages=(n, n),
        )
        for n, stem in enumerate(stems, start=1)
    )
    manifest = Manifest(
        packet_id="P",
        document_date=date(2026, 11, 27),
        locale="en-US",
        client_id=client_id,
        state="MS",
        minor=False,
        documents=documents,
        warnings=warnings,
        inputs_sha256=inputs,
        packet=PacketFile(file="packet.pdf", sha256=sha("packet.pdf"), pages=len(documents)),
    )
    (folder / "manifest.json").write_bytes(manifest.to_json())
