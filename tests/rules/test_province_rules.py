"""The province rules over a tiny lake written straight as Hive-partitioned Parquet (no county night):
each test states the rows, and the one cross-county finding (or none) its rule must make of them."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.support.province import person, write_lake
from ykt.config import load_programs
from ykt.province.lake import open_lake
from ykt.province.rules import load_province_rules, run_province_rules
from ykt.warehouse import Lake

A, B = "510723", "510722"
PAYMENT = {
    "id_number": pl.Utf8, "name": pl.Utf8, "township": pl.Utf8, "village": pl.Utf8, "amount": pl.Float64,
    "pay_date": pl.Date, "status": pl.Utf8, "county": pl.Utf8, "program": pl.Utf8, "period": pl.Utf8,
}  # fmt: skip
ENTITLEMENT = {
    "id_number": pl.Utf8, "name": pl.Utf8, "township": pl.Utf8, "village": pl.Utf8, "amount_due": pl.Float64,
    "due_date": pl.Date, "county": pl.Utf8, "program": pl.Utf8, "period": pl.Utf8,
}  # fmt: skip
EMPLOYEE = {"id_number": pl.Utf8, "name": pl.Utf8, "employer": pl.Utf8, "county": pl.Utf8}
DEATH = {"id_number": pl.Utf8, "name": pl.Utf8, "death_date": pl.Date, "county": pl.Utf8}
AUG = dt.date(2024, 8, 8)


def pay(id_number, county, period="2024-08", program="DIBAO", status="success", amount=500.0):
    return (id_number, "某人", "城关镇", "东街社区", amount, AUG, status, county, program, period)


def entitled(id_number, county, program="DIBAO", period="2024-08"):
    return (id_number, "某人", "城关镇", "东街社区", 500.0, AUG, county, program, period)


@pytest.fixture()
def findings(tmp_path):
    def run(tables: dict[str, list[tuple]]) -> pl.DataFrame:
        schemas = {
            "payments": PAYMENT,
            "entitlements": ENTITLEMENT,
            "public_employees": EMPLOYEE,
            "deaths": DEATH,
        }
        for table, rows in tables.items():
            write_lake(tmp_path, table, rows, schemas[table])
        with Lake() as lake:
            open_lake(lake, tmp_path, load_programs())
            return run_province_rules(lake, load_province_rules())

    return run


def keys(found: pl.DataFrame, rule: str) -> list[tuple]:
    rows = found.filter(pl.col("rule") == rule)
    return [
        (r["id_number"], r["program_code"], r["period"], tuple(r["counties"]))
        for r in rows.iter_rows(named=True)
    ]


def test_cross_county_duplicate(findings):
    """One person's 低保 for August paid in 510723 and in 510722: one finding naming both counties, with both
    amounts. Not flagged: the same month paid twice within one county (the county's DUPLICATE rule), a
    failed payment in the other county, another month."""
    twice, within, failed = person(A, 1), person(A, 2), person(A, 3)
    found = findings(
        {
            "payments": [
                pay(twice, A), pay(twice, B, amount=600.0),
                pay(within, A), pay(within, A),
                pay(failed, A), pay(failed, B, status="failure"),
                pay(twice, B, period="2024-07"),
            ]
        }
    )  # fmt: skip
    assert keys(found, "CROSS_COUNTY_DUPLICATE") == [(twice, "DIBAO", "2024-08", (B, A))]
    row = found.filter(pl.col("rule") == "CROSS_COUNTY_DUPLICATE").row(0, named=True)
    assert float(row["amount"]) == 1100.0
    assert row["case_id"].startswith("YKTP-")


def test_cross_county_public_employee(findings):
    """510723's public employee on 510722's 低保 roster: flagged. Not flagged: on 510722's 耕地地力 roster (not
    means-tested) or on 510723's own roster (the county's PUBLIC_EMPLOYEE rule sees that)."""
    employee, at_home = person(A, 4), person(A, 5)
    found = findings(
        {
            "public_employees": [(employee, "某人", "某局", A), (at_home, "某人", "某局", A)],
            "entitlements": [
                entitled(employee, B), entitled(employee, B, program="GENGDI", period="2024"),
                entitled(at_home, A),
            ],
        }
    )  # fmt: skip
    assert keys(found, "CROSS_COUNTY_PUBLIC_EMPLOYEE") == [(employee, "DIBAO", "2024-08", (B, A))]


def test_cross_county_deceased(findings):
    """Died 2024-07-20 by 510722's register, paid by 510723 for August: flagged. Not flagged: July (the death is
    within it), a death in 510723's own register paid by 510723 (the county's DECEASED_PAYEE rule)."""
    dead, local = person(A, 6), person(A, 7)
    died = dt.date(2024, 7, 20)
    found = findings(
        {
            "deaths": [(dead, "某人", died, B), (local, "某人", died, A)],
            "payments": [pay(dead, A), pay(dead, A, period="2024-07"), pay(local, A)],
        }
    )
    assert keys(found, "CROSS_COUNTY_DECEASED") == [(dead, "DIBAO", "2024-08", (B, A))]


def test_case_ids_are_stable_and_rules_silent_on_an_empty_lake(findings, tmp_path):
    """The same finding gets the same case_id on every run (a hash of rule, ID, program, period); a lake with
    no files at all runs every rule and finds nothing."""
    with Lake() as lake:
        open_lake(lake, tmp_path / "nothing", load_programs())
        assert run_province_rules(lake, load_province_rules()).height == 0
    rows = {"payments": [pay(person(A, 8), A), pay(person(A, 8), B)]}
    first = findings(rows).get_column("case_id").to_list()
    with Lake() as lake:
        open_lake(lake, tmp_path, load_programs())
        again = run_province_rules(lake, load_province_rules()).get_column("case_id").to_list()
    assert first == again and len(first) == 1
