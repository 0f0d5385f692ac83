"""Loaders turn files into models and report every problem with file, row and field."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentkit import InputError, iter_clients_csv, load_client, load_clients_csv, load_practice
from consentkit.loaders import client_from_dict, practice_from_dict

from .conftest import EXAMPLES


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_and_toml_examples_describe_the_same_clients() -> None:
    from_csv = {c.id: c for c in load_clients_csv(EXAMPLES / "clients.csv")}
    from_toml = {c.id: c for c in (load_client(p) for p in (EXAMPLES / "clients").glob("*.toml"))}
    assert from_csv == from_toml
    assert len(from_csv) >= 3


def test_json_client_loads_like_toml(tmp_path: Path) -> None:
    data = tomllib.loads((EXAMPLES / "clients" / "adult.toml").read_text())
    path = tmp_path / "adult.json"
    path.write_text(json.dumps(data, default=str))
    assert load_client(path) == load_client(EXAMPLES / "clients" / "adult.toml")


def test_bad_phone_is_reported_with_file_row_and_field(tmp_path: Path) -> None:
    rows = _rows(EXAMPLES / "clients.csv") * 5
    rows[12] = {**rows[12], "emergency_contact.phone": "555-12"}
    path = _write_csv(tmp_path / "clients.csv", rows)
    with pytest.raises(InputError) as caught:
        load_clients_csv(path)
    assert str(caught.value) == "clients.csv row 14, emergency_contact.phone: not a valid phone number"
    assert (caught.value.source, caught.value.row, caught.value.field) == (
        "clients.csv",
        14,
        "emergency_contact.phone",
    )
    assert "555-12" not in str(caught.value)  # values are never echoed


def test_bad_rows_do_not_stop_the_others(tmp_path: Path) -> None:
    rows = _rows(EXAMPLES / "clients.csv")
    bad_state = {**rows[0], "id": "B-1", "session_address.state": "ZZ"}
    missing = {**rows[1], "id": "B-2", "legal_name": ""}
    path = _write_csv(tmp_path / "mixed.csv", [rows[0], bad_state, rows[1], missing, rows[2]])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("C-9,too,few,cells\n")
    results = list(iter_clients_csv(path))
    assert [r.row for r in results] == [2, 3, 4, 5, 6, 7]
    assert [r.client is not None for r in results] == [True, False, True, False, True, False]
    errors = [r.error for r in results if r.error is not None]
    assert [e.field for e in errors] == ["session_address.state", "legal_name", None]
    assert "fewer cells" in str(errors[2])


def test_unknown_column_is_an_error(tmp_path: Path) -> None:
    rows = [{**r, "favourite_colour": "blue"} for r in _rows(EXAMPLES / "clients.csv")]
    path = _write_csv(tmp_path / "extra.csv", rows)
    first = next(iter_clients_csv(path))
    assert first.error is not None and first.error.field == "favourite_colour"


def test_missing_required_field_names_it(tmp_path: Path) -> None:
    data = tomllib.loads((EXAMPLES / "clients" / "adult.toml").read_text())
    del data["emergency_contact"]["name"]
    with pytest.raises(InputError, match=r"emergency_contact\.name: required field is missing"):
        client_from_dict(data, source="c.toml")


def test_practice_errors_name_nested_list_fields() -> None:
    data = tomllib.loads((EXAMPLES / "practice.toml").read_text())
    data["clinicians"][1]["licenses"][0]["expires"] = "someday"
    with pytest.raises(InputError, match=r"clinicians\.2\.licenses\.1\.expires: not a valid date"):
        practice_from_dict(data, source="practice.toml")


def test_unreadable_files_are_input_errors(tmp_path: Path) -> None:
    broken = tmp_path / "practice.toml"
    broken.write_text("name = [unclosed")
    with pytest.raises(InputError, match=r"practice\.toml: not valid TOML"):
        load_practice(broken)
    with pytest.raises(InputError, match="cannot read file"):
        load_client(tmp_path / "absent.toml")
    with pytest.raises(InputError, match="unsupported file type"):
        load_client(_write_csv(tmp_path / "c.csv", [{"id": "1"}]))


def test_non_latin_and_special_characters_survive(tmp_path: Path) -> None:
    rows = _rows(EXAMPLES / "clients.csv")
    rows[0] = {**rows[0], "legal_name": "Zoë Ångström-Ωμέγα & Sons <LLC> Дмитрий", "preferred_name": "Đặng"}
    client = load_clients_csv(_write_csv(tmp_path / "u.csv", rows))[0]
    assert client.legal_name == "Zoë Ångström-Ωμέγα & Sons <LLC> Дмитрий"


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(list(_rows(EXAMPLES / "clients.csv")[0])), value=_text)
def test_any_cell_value_gives_a_client_or_a_named_error(column: str, value: str) -> None:
    rows = _rows(EXAMPLES / "clients.csv")
    rows[0] = {**rows[0], column: value}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path = Path(f"/tmp/consentkit-hypo-{id(buffer)}.csv")
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        first = next(iter_clients_csv(path))
    finally:
        path.unlink()
    if first.error is not None:
        assert first.error.row == 2
        assert first.error.source == path.name
        assert first.error.field is None or first.error.field.split(".")[0] in {
            c.split(".")[0] for c in rows[0]
        }
