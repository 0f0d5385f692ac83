"""Batch generation: the packets of thousands of clients, fast, resumable, nothing lost.

Typical use::

    from consentkit import iter_clients_csv, load_practice
    from consentkit.batch import generate_packets

    practice = load_practice("practice.toml")
    for result in generate_packets(practice, iter_clients_csv("clients.csv"), "out/batch"):
        print(result.row, result.client_id, result.status, result.error)

See ``docs/batch.md`` for resuming, the report files, folder names and running on dask.
"""

from ._core import generate_packets
from ._names import safe_folder_name
from ._results import REPORT_CSV, REPORT_JSON, BatchResult, Status, write_report_csv, write_report_json

__all__ = [
    "REPORT_CSV",
    "REPORT_JSON",
    "BatchResult",
    "Status",
    "generate_packets",
    "safe_folder_name",
    "write_report_csv",
    "write_report_json",
]
