"""Batch generation end to end with the real LibreOffice: bad rows, hung and silently failing
conversions, SIGKILL and resume, re-runs, hostile client ids and a dask executor.

Most tests render one small template per client (``template_ids``) to keep LibreOffice's share of
the suite short; the CLI test and the benchmark run whole packets.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import date
from pathlib import Path

import attrs
import pytest

from consentkit import iter_clients_csv
from consentkit.batch import REPORT_CSV, REPORT_JSON, BatchResult, generate_packets
from consentkit.batch._lock import LOCK_NAME, BatchLock
from consentkit.errors import OutputExistsError
from consentkit.models import Client, Practice

from .batch_support import (
    HANG_MARKER,
    assert_complete_packet,
    dropping_soffice,
    hanging_soffice,
    processes_running,
    visible_entries,
    write_clients_csv,
)
from .conftest import DOC_DATE, EXAMPLES, ROOT
from .pdf_support import pdf_text

pytestmark = pytest.mark.libreoffice
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ONE = ["emergency_plan"]
BAD_ROWS = [
    {
        "id": "C-2001",
        "legal_name": "Bad Phone",
        "date_of_birth": "1990-01-01",
        "phone": "12",
        "device": "computer",
        "connection": "home_wifi",
        "session_address.line1": "1 Main St",
        "session_address.city": "Jackson",
        "session_address.state": "MS",
        "session_address.postal_code": "39201",
        "emergency_contact.name": "Someone",
        "emergency_contact.relationship": "friend",
        "emergency_contact.phone": "601-555-0100",
    },
    {
        "id": "C-2002",
        "legal_name": "No Address",
        "date_of_birth": "1990-01-01",
        "phone": "601-555-0101",
        "device": "computer",
        "connection": "home_wifi",
    },
]


def _example_rows() -> list[dict[str, str]]:
    with (EXAMPLES / "clients.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


EXAMPLE_IDS = [row["id"] for row in _example_rows()]


def by_id(results: list[BatchResult]) -> dict[str | None, BatchResult]:
    return {r.client_id: r for r in results}


@pytest.fixture(scope="module")
def bad_rows_batch(
    tmp_path_factory: pytest.TempPathFactory, practice: Practice
) -> tuple[Path, list[BatchResult]]:
    """The three example clients with two invalid rows among them, one template each."""
    work = tmp_path_factory.mktemp("bad-rows")
    clients = write_clients_csv(work / "clients.csv", extra_rows=BAD_ROWS)
    out = work / "out"
    results = list(generate_packets(practice, iter_clients_csv(clients), out, on=DOC_DATE, template_ids=ONE))
    return out, results


def test_bad_rows_are_reported_and_the_others_complete(
    bad_rows_batch: tuple[Path, list[BatchResult]],
) -> None:
    out, results = bad_rows_batch
    assert len(results) == len(EXAMPLE_IDS) + 2
    results_by_id = by_id(results)
    for client_id in EXAMPLE_IDS:
        assert results_by_id[client_id].status == "ok"
        assert_complete_packet(out / client_id, archival=True)
    bad_phone, no_address = results_by_id["C-2001"], results_by_id["C-2002"]
    row = len(EXAMPLE_IDS) + 2
    assert (bad_phone.status, bad_phone.row, bad_phone.folder) == ("failed", row, None)
    assert bad_phone.error == f"clients.csv row {row}, phone: not a valid phone number"
    assert no_address.status == "failed"
    assert no_address.error.startswith(f"clients.csv row {row + 1}, session_address")
    # The error names the field, never the value.
    assert "12" not in bad_phone.error.replace(f"row {row}", "")
    assert [p.name for p in visible_entries(out)] == [*EXAMPLE_IDS, REPORT_CSV, REPORT_JSON]


def test_report_files_list_every_row_in_order(bad_rows_batch: tuple[Path, list[BatchResult]]) -> None:
    out, results = bad_rows_batch
    report = json.loads((out / REPORT_JSON).read_text(encoding="utf-8"))
    rows = len(EXAMPLE_IDS) + 2
    summary = {"rows": rows, "ok": rows - 2, "skipped": 0, "failed": 2, "blank": 0, "seconds": 0}
    assert report["summary"] | {"seconds": 0} == summary
    assert [entry["row"] for entry in report["results"]] == list(range(2, rows + 2))
    first = report["results"][0]
    assert first["outputs"] == [
        f"C-1001/{name}"
        for name in ("emergency_plan.docx", "emergency_plan.pdf", "packet.pdf", "manifest.json")
    ]
    assert first["sha256"] == by_id(results)["C-1001"].hashes
    lines = (out / REPORT_CSV).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "row,client_id,folder,status,error,warnings,outputs,sha256,seconds,note"
    assert [line.split(",")[0] for line in lines[1:]] == [str(n) for n in range(2, rows + 2)]
    assert lines[-2].startswith(f"{rows},C-2001,,failed,")


def test_rerun_skips_complete_packets_and_remakes_changed_inputs(tmp_path: Path, practice: Practice) -> None:
    templates = shutil.copytree(ROOT / "templates" / "en-US", tmp_path / "templates")
    clients = write_clients_csv(tmp_path / "clients.csv")
    out = tmp_path / "out"

    def batch(soffice: str | None = None) -> dict[str | None, BatchResult]:
        rows = iter_clients_csv(clients)
        return by_id(
            list(
                generate_packets(
                    practice,
                    rows,
                    out,
                    language=str(templates),
                    on=DOC_DATE,
                    template_ids=ONE,
                    soffice=soffice,
                )
            )
        )

    first = batch()
    assert {r.status for r in first.values()} == {"ok"}
    manifests = {cid: (out / cid / "manifest.json").read_bytes() for cid in first}

    # A killed run's leftovers are removed; complete packets are skipped without starting
    # LibreOffice (an soffice that always fails proves it never runs).
    (out / ".C-1001.staging-x1y2z3").mkdir()
    (out / ".C-1001.staging-x1y2z3" / "emergency_plan.docx").write_bytes(b"partial")
    (out / ".consentkit-chunk-abc").mkdir()
    started = time.monotonic()
    second = batch(soffice=shutil.which("false"))
    assert {r.status for r in second.values()} == {"skipped"}
    assert time.monotonic() - started < 5
    assert second["C-1002"].hashes == first["C-1002"].hashes
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [LOCK_NAME]
    assert {cid: (out / cid / "manifest.json").read_bytes() for cid in first} == manifests

    # A changed row is made again; the others are kept.
    write_clients_csv(clients, edit={"C-1002": {"phone": "228-555-0999"}})
    third = batch()
    assert {cid: r.status for cid, r in third.items()} == {
        cid: "ok" if cid == "C-1002" else "skipped" for cid in first
    }
    assert "(228) 555-0999" in pdf_text(out / "C-1002" / "emergency_plan.pdf")

    # A changed template makes every packet again.
    template = templates / "emergency_plan.docx"
    with zipfile.ZipFile(template) as source:
        members = {info: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(template, "w") as target:
        for info, data in members.items():
            if info.filename == "word/document.xml":
                data = data.replace(b"Emergency", b"EMERGENCY", 1)
            target.writestr(info, data)
    fourth = batch()
    assert {r.status for r in fourth.values()} == {"ok"}
    for cid in first:
        assert_complete_packet(out / cid)


def test_hostile_client_ids_stay_inside_the_batch_folder(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    ids = [
        "../../etc",
        "a/b",
        "/abs/path",
        "..",
        ".hidden",
        "CON",
        "nul.txt",
        "report.csv",
        "C-1001",
        "c-1001",
        "x" * 300,
        "tab\there",
        "Ünïcödé",
        "a\x00b",
    ]
    clients = [attrs.evolve(example_clients["adult"], id=client_id) for client_id in ids]
    out = tmp_path / "batch" / "out"
    out.mkdir(parents=True)
    results = list(generate_packets(practice, clients, out, on=DOC_DATE, template_ids=ONE))
    assert {r.status for r in results} == {"ok"}, [r.error for r in results if r.error]
    folders = [r.folder for r in results]
    assert all(folder is not None for folder in folders)
    assert len({f.casefold() for f in folders if f}) == len(ids)
    for result in results:
        assert result.folder is not None
        folder = out / result.folder
        assert folder.resolve().parent == out.resolve()
        assert not result.folder.startswith(".") and len(result.folder) <= 80
        assert json.loads((folder / "manifest.json").read_text())["client_id"] == result.client_id
        assert all(name.startswith(f"{result.folder}/") for name in result.outputs)
    assert by_id(results)["C-1001"].folder == "C-1001"
    assert sorted(p.name for p in (tmp_path / "batch").iterdir()) == ["out"]
    assert not Path("/etc/manifest.json").exists()
    # The same ids get the same folders next time.
    again = list(
        generate_packets(practice, clients, out, on=DOC_DATE, template_ids=ONE, soffice=shutil.which("false"))
    )
    assert sorted((r.row, r.folder, r.status) for r in again) == sorted(
        (r.row, r.folder, "skipped") for r in results
    )


@linux_only
def test_hung_conversion_fails_only_its_client(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    soffice = hanging_soffice(tmp_path)
    hung = attrs.evolve(example_clients["adult"], id="C-HANG", legal_name=f"Maria {HANG_MARKER}")
    clients = [hung, example_clients["couple"], example_clients["minor"]]
    started = time.monotonic()
    results = by_id(
        list(
            generate_packets(
                practice,
                clients,
                tmp_path / "out",
                on=DOC_DATE,
                template_ids=ONE,
                workers=1,
                timeout=15,
                soffice=soffice,
            )
        )
    )
    # One call of the three clients timed out; the hung client alone timed out again; the
    # other two were converted together.
    assert time.monotonic() - started < 90
    assert results["C-HANG"].status == "failed"
    assert "emergency_plan.docx: LibreOffice ran past the 15 s limit" in results["C-HANG"].error
    assert "tried twice" in results["C-HANG"].error
    assert (results["C-1002"].status, results["C-1003"].status) == ("ok", "ok")
    assert not (tmp_path / "out" / "C-HANG").exists()
    assert_complete_packet(tmp_path / "out" / "C-1003", archival=True)
    time.sleep(0.2)
    # The hung process (the fake soffice, in LibreOffice's process group) was killed.
    assert processes_running(str(soffice)) == []


def test_silently_dropped_output_is_converted_again(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    soffice, calls = dropping_soffice(tmp_path)
    results = list(
        generate_packets(
            practice,
            example_clients.values(),
            tmp_path / "out",
            on=DOC_DATE,
            template_ids=ONE,
            workers=1,
            soffice=soffice,
        )
    )
    assert {r.status for r in results} == {"ok"}
    assert calls.read_text() == "2"  # the call that dropped a PDF, and the retry of that document
    for result in results:
        assert result.folder is not None
        assert_complete_packet(tmp_path / "out" / result.folder, archival=True)


_KILLED_RUN = """
from datetime import date
from consentkit import iter_clients_csv, load_practice
from consentkit.batch import generate_packets
practice = load_practice({practice!r})
rows = iter_clients_csv({clients!r})
results = generate_packets(practice, rows, {out!r}, workers=1, max_files_per_call=2, on=date(2026, 11, 27),
                           template_ids=["emergency_plan", "esign_consent"])
for result in results:
    print(result.status, result.client_id, flush=True)
"""


@linux_only
def test_sigkill_mid_batch_then_resume_completes_every_packet(tmp_path: Path, practice: Practice) -> None:
    extra = [{**row, "id": f"C-30{n}"} for n, row in enumerate(_example_rows(), start=1)]
    clients = write_clients_csv(tmp_path / "clients.csv", extra_rows=extra)
    out = tmp_path / "out"
    script = _KILLED_RUN.format(practice=str(EXAMPLES / "practice.toml"), clients=str(clients), out=str(out))
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        # Kill while LibreOffice converts a chunk and at least one packet is complete.
        while time.monotonic() < deadline and process.poll() is None:
            converting = any(out.glob(".consentkit-chunk-*/.consentkit-convert-*"))
            done = [p for p in out.glob("C-*") if (p / "manifest.json").exists()]
            if converting and done:
                break
            time.sleep(0.02)
        assert process.poll() is None, "the batch ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    record = json.loads((out / LOCK_NAME).read_text())
    assert record["pid"] == process.pid and record["profiles"]

    # Nothing partial is visible: every folder without a dot is a complete packet.
    visible = visible_entries(out)
    assert visible and all(p.is_dir() for p in visible)
    for folder in visible:
        assert_complete_packet(folder)
    assert len(visible) < 2 * len(EXAMPLE_IDS)

    results = by_id(
        list(
            generate_packets(
                practice,
                iter_clients_csv(clients),
                out,
                on=date(2026, 11, 27),
                template_ids=["emergency_plan", "esign_consent"],
            )
        )
    )
    assert len(results) == 2 * len(EXAMPLE_IDS)
    assert {results[p.name].status for p in visible} == {"skipped"}
    assert {r.status for r in results.values()} <= {"ok", "skipped"}
    for client_id in results:
        manifest = assert_complete_packet(out / str(client_id), archival=True)
        assert manifest["client_id"] == client_id
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [LOCK_NAME]
    # The killed run's LibreOffice (in its own session, so it outlived the kill) was ended.
    for profile in record["profiles"]:
        assert processes_running(Path(profile).as_uri()) == []
        assert not Path(profile).exists()


def test_a_second_batch_on_the_same_folder_is_refused(tmp_path: Path, practice: Practice) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with BatchLock.acquire(out), pytest.raises(OutputExistsError, match="another batch"):
        next(generate_packets(practice, [], out))


def test_dask_executor_runs_the_batch(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    distributed = pytest.importorskip("distributed")
    dask = pytest.importorskip("dask")
    with (
        dask.config.set({"temporary-directory": str(tmp_path / "dask")}),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = list(
            generate_packets(
                practice,
                example_clients.values(),
                tmp_path / "out",
                on=DOC_DATE,
                template_ids=ONE,
                executor=client.get_executor(),
                workers=2,
            )
        )
    assert sorted((r.client_id, r.status) for r in results) == sorted(
        (c.id, "ok") for c in example_clients.values()
    )
    for result in results:
        assert result.folder is not None
        assert_complete_packet(tmp_path / "out" / result.folder, archival=True)


@linux_only
@pytest.mark.slow
def test_dask_worker_processes_and_a_worker_killed_mid_batch_lose_nothing(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    """Two dask worker processes (not threads of this process): the chunks and their arguments
    pickle, the workers find LibreOffice, the stock templates and the shared output folder, and a
    worker process killed while it converts a chunk costs nothing but time: dask runs the chunk
    again on another worker, and every packet and the report are complete."""
    distributed = pytest.importorskip("distributed")
    dask = pytest.importorskip("dask")
    clients = [
        attrs.evolve(client, id=f"D-{n:03d}")
        for n, client in enumerate([*example_clients.values()] * 4, start=1)
    ]
    out = tmp_path / "out"
    results: list[BatchResult] = []
    killed: list[int] = []
    with (
        dask.config.set({"temporary-directory": str(tmp_path / "dask")}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = client.run(os.getpid)
        assert len(set(workers.values())) == 2 and os.getpid() not in workers.values()
        batch = generate_packets(
            practice,
            clients,
            out,
            on=DOC_DATE,
            template_ids=ONE,
            executor=client.get_executor(),
            workers=2,
            max_files_per_call=2,  # 8 chunks of 2 clients
        )
        for result in batch:
            results.append(result)
            if not killed:
                # A chunk has finished; kill the worker process still converting another one.
                busy = [address for address, keys in client.processing().items() if keys]
                if busy and busy[0] in workers:
                    killed.append(workers[busy[0]])
                    os.kill(killed[0], signal.SIGKILL)
    assert killed, "no worker was busy to be killed"
    # Every client exactly once, every packet whole, the report complete.
    assert sorted((r.client_id, r.status) for r in results) == [(c.id, "ok") for c in clients]
    for result in results:
        assert result.folder is not None
        assert_complete_packet(out / result.folder, archival=True)
    report = json.loads((out / REPORT_JSON).read_text())
    assert sorted((r["client_id"], r["status"]) for r in report["results"]) == [(c.id, "ok") for c in clients]
    with (out / REPORT_CSV).open(newline="", encoding="utf-8") as handle:
        assert sorted(row["client_id"] for row in csv.DictReader(handle)) == [c.id for c in clients]
    # The killed worker's LibreOffice (in a session of its own) finishes its call; its leftovers are
    # dot-folders, which the next run on the folder removes while it finds every packet complete.
    deadline = time.monotonic() + 60
    while processes_running(str(out)):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    again = list(generate_packets(practice, clients, out, on=DOC_DATE, template_ids=ONE, workers=1))
    assert {r.status for r in again} == {"skipped"}
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [LOCK_NAME]
