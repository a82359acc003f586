"""The data-quality row checks as the warehouse evaluates them (ykt.quality.profile), without GX.

Each check of each kind is a SQL condition; here every one is shown a clean row (it must pass) and the
same row with the one value that breaks it (it must fail, and no other check may). `BREAKING` names that
value for every check, so a new check without its fixture fails `test_every_check_has_a_breaking_row`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from ykt.config import load_programs
from ykt.kinds import KIND_SPECS
from ykt.quality.profile import RowCheck, parameters, quality_profiles, row_checks
from ykt.warehouse import Warehouse

CLEAN = {
    "source_row": 3,
    "id_number": "510723199001010015",
    "program_code": "DIBAO",
    "period": "2024-04",
    "amount_due": Decimal("1350.00"),
    "amount": Decimal("1350.00"),
    "amount_limit": 13500.0,
    "approval_date": dt.date(2024, 4, 1),
    "due_date": dt.date(2024, 4, 10),
    "pay_date": dt.date(2024, 4, 10),
    "status": "success",
    "death_date": dt.date(2024, 3, 15),
    "employer": "某县财政局",
    "id_copies": 1,
}
BREAKING = {
    "id_number_missing": {"id_number": None},
    "id_number_malformed": {"id_number": "5.10723E+17"},  # a number that lost its digits
    "amount_not_positive": {"amount_due": Decimal("0.00"), "amount": Decimal("-5.00")},
    "amount_over_limit": {"amount_due": Decimal("99999.00"), "amount": Decimal("99999.00")},
    "program_code_missing": {"program_code": None},
    "period_malformed": {"period": "2024年3月"},
    "due_date_missing": {"due_date": None},
    "due_before_approval": {"approval_date": dt.date(2024, 4, 15)},
    "status_unknown": {"status": "成功"},  # the bank's word, not the normalised one
    "payment_failed": {"status": "failure"},
    "pay_date_missing": {"pay_date": None},
    "death_date_missing": {"death_date": None},
    "id_number_repeated": {"id_copies": 2},
    "employer_missing": {"employer": None},
}
# A status nobody knows is not a success either: the failed-share check counts it too (as GX's did).
ALSO_BROKEN = {"status_unknown": {"payment_failed"}}
CHECKS = [(kind, check) for kind, spec in KIND_SPECS.items() for check in row_checks(spec)]


def broken_checks(wh: Warehouse, checks: tuple[RowCheck, ...], row: dict) -> set[str]:
    """The checks the one-row batch `row` breaks, evaluated by DuckDB as the profile evaluates them."""
    wh.con.register("batch", pl.DataFrame([row], infer_schema_length=None))
    try:
        broken = set()
        for check in checks:
            sql = f"select coalesce(({check.breaks}), false) from batch"
            if wh.scalar(check.name, sql, parameters(sql)):
                broken.add(check.name)
        return broken
    finally:
        wh.con.unregister("batch")


def test_every_check_has_a_breaking_row():
    assert {check.name for _, check in CHECKS} == set(BREAKING)


@pytest.mark.parametrize("kind", KIND_SPECS)
def test_a_clean_row_breaks_no_check(kind):
    assert broken_checks(Warehouse(":memory:"), row_checks(KIND_SPECS[kind]), CLEAN) == set()


@pytest.mark.parametrize(("kind", "check"), CHECKS, ids=[f"{k}-{c.name}" for k, c in CHECKS])
def test_each_check_fails_on_its_breaking_row_alone(kind, check):
    """The breaking value breaks its own check and no other one (a missing ID is not also 'malformed':
    as in GX, a missing value is only the missing-value check's business), but for ALSO_BROKEN."""
    row = CLEAN | BREAKING[check.name]
    expected = {check.name} | ALSO_BROKEN.get(check.name, set())
    assert broken_checks(Warehouse(":memory:"), row_checks(KIND_SPECS[kind]), row) == expected


def test_statistics_count_rows_per_file_and_quote_the_first_rows():
    """Run R loaded two death registers; the same ID twice in a.csv (rows 2 and 4) and once in b.csv (row 7):
    three rows break the uniqueness check (the batch is every row the run loaded), one ID is malformed;
    the rows of another run are not counted."""
    wh = Warehouse(":memory:")
    wh.execute(
        "fixture",
        """
        insert into files (file_hash, kind, original_name, archived_path, received_at, run_id, status,
                           rows_read, rows_loaded, rows_rejected) values
          ('ha', 'deaths', 'a.csv', 'a/ha', '2024-04-20 01:00:00', 'R', 'loaded', 3, 3, 0),
          ('hb', 'deaths', 'b.csv', 'a/hb', '2024-04-20 01:00:00', 'R', 'loaded', 2, 2, 0),
          ('hz', 'deaths', 'z.csv', 'a/hz', '2024-03-20 01:00:00', 'R0', 'loaded', 1, 1, 0);
        insert into run_files values
          ('R', 'ha', 'a.csv', 'deaths', 'loaded', 3, 3, 0, null, null, null),
          ('R', 'hb', 'b.csv', 'deaths', 'loaded', 2, 2, 0, null, null, null),
          ('R0', 'hz', 'z.csv', 'deaths', 'loaded', 1, 1, 0, null, null, null);
        insert into deaths (file_hash, source_row, id_number, death_date) values
          ('ha', 2, '510723199001010015', '2024-01-01'), ('ha', 3, '510723198502020027', '2024-01-01'),
          ('ha', 4, '510723199001010015', '2024-01-01'),
          ('hb', 6, '5107231985020200', '2024-01-01'), ('hb', 7, '510723199001010015', '2024-01-01'),
          ('hz', 2, '510723198502020027', '2024-01-01');
        """,
    )
    profile = quality_profiles(wh, "R", load_programs())["deaths"]
    assert (profile.rows, profile.rows_expected) == (5, 5)
    checks = {c.name: c for c in profile.checks}
    assert profile.broken(checks["id_number_repeated"]) == (3, [("a.csv", 2), ("a.csv", 4), ("b.csv", 7)])
    assert profile.broken(checks["id_number_malformed"]) == (1, [("b.csv", 6)])
    assert profile.broken(checks["death_date_missing"]) == (0, [])
