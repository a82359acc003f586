"""The warehouse's stored row hashes (warehouse.py: ROW_HASHES).

The nightly rules compare hashes stored when a row was loaded with hashes they compute on the
spot (a death register's ids, a roster's expected holder). Both must come from one hash function,
or a paid villager looks unpaid. These tests use a real warehouse file: a fixture of one paid,
one unpaid and one paid-to-a-stranger beneficiary, and a payments frame without an account
holder column (as a bank detail without 户名 arrives).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from tests.support.rule_fixtures import Scenario, findings, resident_id
from ykt.config import load_programs
from ykt.detect import load_registry, run_rules
from ykt.warehouse.connection import ROW_HASHES, Warehouse

AS_OF = dt.date(2024, 4, 1)


@pytest.fixture()
def night(tmp_path):
    """Person 1 paid, 2 never paid (MISSING), 3 paid to a stranger (PAYEE_MISMATCH); rules run once."""
    s = Scenario()
    for person in (1, 2, 3):
        s.entitle(person)
    s.pay(1)
    s.pay(3, payee_name="王五")
    path = tmp_path / "ykt.duckdb"
    with Warehouse(path) as wh:
        s.load(wh)
        run_rules(wh, load_programs(), load_registry(), AS_OF)
        before = _hashes(wh), _finding_keys(wh)
    return path, before


def _hashes(wh: Warehouse) -> dict[str, list[tuple]]:
    return {
        table: wh.rows(
            f"test {table} hashes",
            f"select {', '.join(c for c, _ in columns)} from {table} order by source_row",
        )
        for table, columns in ROW_HASHES.items()
    }


def _finding_keys(wh: Warehouse) -> list[tuple]:
    return sorted((r["rule"], r["id_number"]) for r in findings(wh))


def _assert_reopened_as_loaded(path, hashes, found) -> None:
    """Opened again, the warehouse holds the hashes computed at load and the night finds the same."""
    with Warehouse(path) as wh:
        assert _hashes(wh) == hashes
        run_rules(wh, load_programs(), load_registry(), AS_OF)
        assert _finding_keys(wh) == found


def test_the_fixture_finds_what_it_states(night):
    path, (hashes, found) = night
    assert found == [("MISSING", resident_id(2)), ("PAYEE_MISMATCH", resident_id(3))]
    assert all(value is not None for rows in hashes["entitlements"] for value in rows[:3])


def test_hashes_from_another_hash_function_are_recomputed_on_open(night):
    """A warehouse whose hashes another DuckDB computed (its recorded probe differs, its values
    are wrong) is re-hashed when opened: the same values as at load, the same findings."""
    path, (hashes, found) = night
    with Warehouse(path) as wh:
        wh.execute("test: foreign hashes", "update payments set key_hash = key_hash + 1, card_hash = 7")
        wh.execute(
            "test: foreign probe", "update warehouse_meta set value = 'another' where key = 'row_hash_probe'"
        )
    _assert_reopened_as_loaded(path, hashes, found)


def test_a_warehouse_older_than_the_row_hashes_gets_them_on_open(night):
    """A warehouse created before the hash columns existed (no columns, no probe) is given both."""
    path, (hashes, found) = night
    with Warehouse(path) as wh:
        for table, columns in ROW_HASHES.items():
            for column, _ in columns:
                wh.execute("test: old schema", f"alter table {table} drop column {column}")
        wh.execute("test: no probe", "delete from warehouse_meta")
    _assert_reopened_as_loaded(path, hashes, found)


def test_a_frame_without_a_hashed_column_hashes_it_as_the_table_would(tmp_path):
    """A bank detail without an account-holder column: its rows get the fingerprint the table's
    own row would (holder taken from the bank's name), so a correct payment stays ordinary."""
    frame = pl.DataFrame(
        {
            "file_hash": ["bank"],
            "source_row": [2],
            "id_number": [resident_id(1)],
            "program_code": ["DIBAO"],
            "period": ["2024-03"],
            "name": ["张三"],
            "amount": [Decimal("1350.00")],
            "pay_date": [dt.date(2024, 3, 10)],
            "status": ["success"],
        },
        schema_overrides={"source_row": pl.Int32, "amount": pl.Decimal(18, 2)},
    )
    with Warehouse(tmp_path / "ykt.duckdb") as wh:
        wh.insert_frame("payments", frame)
        loaded = wh.rows("test", "select ordinary_fingerprint, key_hash from payments")
        expected = wh.rows(
            "test",
            "select hash(1350.00::decimal(18, 2), '张三'), hash($id, 'DIBAO', '2024-03')",
            {"id": resident_id(1)},
        )
    assert loaded == expected


def test_a_warehouse_older_than_the_file_reason_codes_gets_the_columns_on_open(tmp_path):
    """Fixture: a warehouse file whose run_files predates `reason_code` and `inferences` (issue 13), with
    one row: opening it adds both columns (null on the old row) and keeps the row."""
    import duckdb

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """create table run_files (run_id varchar not null, file_hash varchar not null,
            original_name varchar not null, kind varchar not null, status varchar not null,
            rows_read integer not null, rows_loaded integer not null, rows_rejected integer not null, reason varchar)"""
        )
        con.execute("insert into run_files values ('R', 'h', 'a.xlsx', 'roster', 'loaded', 1, 1, 0, null)")
    with Warehouse(path) as wh:
        assert wh.rows("t", "select original_name, reason_code, inferences from run_files") == [
            ("a.xlsx", None, None)
        ]


def test_the_night_gives_duckdb_the_memory_limit_of_its_settings(tmp_path):
    """Fixture: the shipped programs.yaml (warehouse_memory_mb) and a warehouse file opened as the night
    opens it: DuckDB's limit is the setting, not DuckDB's default of 80% of the machine (bench/README.md:
    the largest admitted CSV's rules peaked at 2.0 GB without it)."""
    from ykt.pipeline import open_warehouse

    settings = load_programs().settings
    assert settings.warehouse_memory_mb == 1024
    with open_warehouse(tmp_path / "w.duckdb", memory_mb=settings.warehouse_memory_mb) as wh:
        limit = wh.scalar("limit", "select current_setting('memory_limit')")
    assert limit in ("1.0 GiB", "1024.0 MiB"), limit
