"""Pandera stage models: failures collected at once and turned into rejects with the file's own row numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ykt.ingest.types import RawTable
from ykt.ingest.validate.contract import ContractError, validate_loaded, validate_normalised, validate_raw
from ykt.kinds import kind_spec
from ykt.schemas.models import MODELS

ID_A = "11010519491231002X"
ID_B = "360426199101010071"


def raw_table(kind: str = "roster", headers: dict[str, str] | None = None) -> RawTable:
    frame = pl.DataFrame({"source_row": [5], "id_number": [ID_A]}, schema_overrides={"source_row": pl.Int32})
    return RawTable(
        Path("花名册.xlsx"),
        "Sheet1",
        kind,
        frame,
        headers or {"id_number": "身份证号码", "death_date": "死亡日期"},
    )


def typed_roster(rows: list[dict]) -> pl.DataFrame:
    """A normalised-stage roster frame: the loaded columns (but sheet) with typed defaults per row."""
    base = {
        "id_number": ID_A,
        "program_code": "DIBAO",
        "period": "2024-03",
        "name": "甲",
        "amount_due": Decimal("1350.00"),
        "due_date": dt.date(2024, 3, 10),
    }
    schema = {
        "source_row": pl.Int32,
        "id_number": pl.String,
        "program_code": pl.String,
        "period": pl.String,
        "name": pl.String,
        "head_name": pl.String,
        "head_id": pl.String,
        "payee_name": pl.String,
        "payee_id": pl.String,
        "card_number": pl.String,
        "bank": pl.String,
        "township": pl.String,
        "village": pl.String,
        "group_name": pl.String,
        "amount_due": pl.Decimal(18, 2),
        "approval_date": pl.Date,
        "due_date": pl.Date,
        "warnings": pl.String,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=schema)


def test_duplicate_key_keeps_first_row_and_all_failures_are_collected():
    """Rows 3 and 5 share (id, program, period): 5 is the repeat. Row 4 has a date in 1850 (outside
    the plausible range) — both problems come back from one lazy validation."""
    typed = typed_roster(
        [
            {"source_row": 3},
            {"source_row": 4, "id_number": ID_B, "due_date": dt.date(1850, 1, 1)},
            {"source_row": 5},
        ]
    )
    valid, rejects = validate_normalised(
        typed, raw_table(headers={"id_number": "身份证号码", "due_date": "应发日期"})
    )
    assert valid["source_row"].to_list() == [3]
    got = sorted(zip(rejects["row"], rejects["reason_code"], rejects["column"]))
    assert got == [(4, "DATE_INVALID", "应发日期"), (5, "DUPLICATE_ROW", "身份证号码")]
    assert ID_A not in rejects["value_masked"].to_list()


def test_negative_amount_and_missing_name_map_to_reason_codes():
    """Nullability and range checks name the clerk's problem, not pandera's check."""
    typed = typed_roster(
        [
            {"source_row": 3, "amount_due": Decimal("-1.00")},
            {"source_row": 4, "id_number": ID_B, "name": None},
        ]
    )
    _, rejects = validate_normalised(typed, raw_table())
    assert sorted(zip(rejects["row"], rejects["reason_code"])) == [
        (3, "AMOUNT_NEGATIVE"),
        (4, "NAME_MISSING"),
    ]


def test_loaded_models_are_exactly_the_warehouse_columns():
    """The loaded stage model of every kind lists LOADED_COLUMNS in order (the insert contract)."""
    for kind, model in MODELS["loaded"].items():
        assert list(model.to_schema().columns) == list(kind_spec(kind).loaded_columns)


def test_contract_breaks_raise_instead_of_rejecting_rows():
    """A frame with a missing column or a float amount is a defect between stages, not bad input."""
    with pytest.raises(ContractError):
        validate_loaded(pl.DataFrame({"source_row": [1]}, schema={"source_row": pl.Int32}), "deaths")
    bad = RawTable(
        Path("x.csv"),
        None,
        "roster",
        pl.DataFrame({"source_row": [0, 0]}, schema={"source_row": pl.Int32}),
        {},
    )
    with pytest.raises(ContractError):
        validate_raw(bad)
