"""Pandera models, one per dataset stage and kind (issue 3).

Stages:
- raw:        the reader's text table (RawTable.frame): roles as text, `source_row`.
- normalised: the typed frame after the polars parsers (ykt.ingest.normalise.fields), before it
              becomes warehouse rows: nullability, ranges, vocabularies and in-file key
              uniqueness are checked here, and failures become rejects rows.
- loaded:     exactly the columns and dtypes inserted into the warehouse table
              (LOADED_COLUMNS in ykt.ingest.types); a failure here is a programming error.

Value parsing lives in the expressions; these models check the result cheaply.
Each failing check maps to a reason code: MISSING_REASONS for a null in a
required column, INVALID_REASONS for a value check, and dataframe-level checks
are named by their reason code.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

STATUSES = ("success", "failure", "returned", "stopped")
# The ID and period formats of the contract; the data-quality suite checks the loaded rows with these same
# patterns. Groups are non-capturing: pandas (the suite's engine) warns on capturing ones.
ID_PATTERN = r"^\d{17}[\dX]$"
PERIOD_PATTERN = r"^\d{4}(?:-(?:0[1-9]|1[0-2])|-Q[1-4])?$"
CARD_PATTERN = r"^\d{8,32}$"
PROGRAM_CODE_PATTERN = r"^[A-Za-z0-9_]+$"
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
MONEY = pl.Decimal(18, 2)

MISSING_REASONS: dict[str, str] = {
    "id_number": "ID_MISSING",
    "name": "NAME_MISSING",
    "program_code": "PROGRAM_MISSING",
    "period": "PERIOD_MISSING",
    "amount_due": "AMOUNT_MISSING",
    "amount": "AMOUNT_MISSING",
    "due_date": "DUE_DATE_UNKNOWN",
    "status": "STATUS_MISSING",
    "death_date": "DEATH_DATE_MISSING",
}
INVALID_REASONS: dict[str, str] = {
    "id_number": "ID_FORMAT",
    "head_id": "ID_FORMAT",
    "payee_id": "ID_FORMAT",
    "program_code": "PROGRAM_UNKNOWN",
    "period": "PERIOD_INVALID",
    "card_number": "CARD_INVALID",
    "amount_due": "AMOUNT_NEGATIVE",
    "amount": "AMOUNT_NEGATIVE",
    "status": "STATUS_UNKNOWN",
    "approval_date": "DATE_INVALID",
    "due_date": "DATE_INVALID",
    "pay_date": "DATE_INVALID",
    "death_date": "DATE_INVALID",
}


def _id(nullable: bool = False):
    return pa.Field(nullable=nullable, str_matches=ID_PATTERN)


def _date(nullable: bool = True):
    return pa.Field(nullable=nullable, in_range={"min_value": EARLIEST_DATE, "max_value": LATEST_DATE})


def _text():
    return pa.Field(nullable=True)


# -- raw (reader output) -------------------------------------------------------------------


class RawBase(pa.DataFrameModel):
    """Every raw table: a 1-based, unique spreadsheet row number; other columns are text
    (or the reader's boolean `<role>__numeric` flags), checked per kind below."""

    source_row: pl.Int32 = pa.Field(ge=1, unique=True)

    class Config:
        strict = False


class RawRoster(RawBase):
    id_number: str | None = _text()
    name: str | None = _text()
    head_name: str | None = _text()
    head_id: str | None = _text()
    payee_name: str | None = _text()
    payee_id: str | None = _text()
    card_number: str | None = _text()
    bank: str | None = _text()
    program: str | None = _text()
    period: str | None = _text()
    amount: str | None = _text()
    approval_date: str | None = _text()
    due_date: str | None = _text()
    township: str | None = _text()
    village: str | None = _text()
    group_name: str | None = _text()


class RawPayments(RawBase):
    id_number: str | None = _text()
    name: str | None = _text()
    payee_name: str | None = _text()
    card_number: str | None = _text()
    bank: str | None = _text()
    program: str | None = _text()
    period: str | None = _text()
    amount: str | None = _text()
    pay_date: str | None = _text()
    status: str | None = _text()
    failure_reason: str | None = _text()
    township: str | None = _text()
    village: str | None = _text()
    group_name: str | None = _text()


class RawDeaths(RawBase):
    id_number: str | None = _text()
    name: str | None = _text()
    death_date: str | None = _text()


class RawPublicEmployees(RawBase):
    id_number: str | None = _text()
    name: str | None = _text()
    employer: str | None = _text()


# -- normalised (typed, before loading) ------------------------------------------------------


def _first_of_key(data: pa.PolarsData, key: list[str]) -> pl.LazyFrame:
    """In-file uniqueness: the first row of a key is kept, later repeats are rejected."""
    return data.lazyframe.select(pl.struct(key).is_first_distinct())


class NormalisedRosterFields(pa.DataFrameModel):
    """Every check of a roster row on its own (NormalisedRoster adds the in-file key check; a table
    read in parts is checked with this model and its keys in the warehouse, across the parts)."""

    source_row: pl.Int32 = pa.Field(ge=1, unique=True)
    id_number: str = _id()
    program_code: str = pa.Field(str_matches=PROGRAM_CODE_PATTERN)
    period: str = pa.Field(str_matches=PERIOD_PATTERN)
    name: str = pa.Field()
    head_name: str | None = _text()
    head_id: str | None = _id(nullable=True)
    payee_name: str | None = _text()
    payee_id: str | None = _id(nullable=True)
    card_number: str | None = pa.Field(nullable=True, str_matches=CARD_PATTERN)
    bank: str | None = _text()
    township: str | None = _text()
    village: str | None = _text()
    group_name: str | None = _text()
    amount_due: MONEY = pa.Field(ge=0)
    approval_date: dt.date | None = _date()
    due_date: dt.date = _date(nullable=False)
    warnings: str | None = _text()


class NormalisedRoster(NormalisedRosterFields):
    @pa.dataframe_check(name="DUPLICATE_ROW")
    def one_entitlement_per_key(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _first_of_key(data, ["id_number", "program_code", "period"])


class NormalisedPayments(pa.DataFrameModel):
    """No key uniqueness here: two payments for one person and period are exactly
    what the DUPLICATE rule must see, and a failure followed by a re-issue is normal."""

    source_row: pl.Int32 = pa.Field(ge=1, unique=True)
    id_number: str = _id()
    program_code: str = pa.Field(str_matches=PROGRAM_CODE_PATTERN)
    period: str = pa.Field(str_matches=PERIOD_PATTERN)
    name: str | None = _text()
    payee_name: str | None = _text()
    card_number: str | None = pa.Field(nullable=True, str_matches=CARD_PATTERN)
    bank: str | None = _text()
    township: str | None = _text()
    village: str | None = _text()
    group_name: str | None = _text()
    amount: MONEY = pa.Field(ge=0)
    pay_date: dt.date | None = _date()
    status: str = pa.Field(isin=STATUSES)
    failure_reason: str | None = _text()
    warnings: str | None = _text()


class NormalisedDeathsFields(pa.DataFrameModel):
    source_row: pl.Int32 = pa.Field(ge=1, unique=True)
    id_number: str = _id()
    name: str | None = _text()
    death_date: dt.date = _date(nullable=False)


class NormalisedDeaths(NormalisedDeathsFields):
    @pa.dataframe_check(name="DUPLICATE_ROW")
    def one_death_per_person(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _first_of_key(data, ["id_number"])


class NormalisedPublicEmployeesFields(pa.DataFrameModel):
    source_row: pl.Int32 = pa.Field(ge=1, unique=True)
    id_number: str = _id()
    name: str | None = _text()
    employer: str | None = _text()


class NormalisedPublicEmployees(NormalisedPublicEmployeesFields):
    @pa.dataframe_check(name="DUPLICATE_ROW")
    def one_row_per_person(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _first_of_key(data, ["id_number"])


# -- loaded (exactly what is inserted) --------------------------------------------------------


class _Loaded(pa.DataFrameModel):
    class Config:
        strict = True
        ordered = True


class LoadedRoster(_Loaded):
    sheet: str = _text()
    source_row: pl.Int32 = pa.Field()
    id_number: str = pa.Field()
    program_code: str = pa.Field()
    period: str = pa.Field()
    name: str = pa.Field()
    head_name: str = _text()
    head_id: str = _text()
    payee_name: str = _text()
    payee_id: str = _text()
    card_number: str = _text()
    bank: str = _text()
    township: str = _text()
    village: str = _text()
    group_name: str = _text()
    amount_due: MONEY = pa.Field()
    approval_date: dt.date = _text()
    due_date: dt.date = pa.Field()
    warnings: str = _text()


class LoadedPayments(_Loaded):
    sheet: str = _text()
    source_row: pl.Int32 = pa.Field()
    id_number: str = pa.Field()
    program_code: str = pa.Field()
    period: str = pa.Field()
    name: str = _text()
    payee_name: str = _text()
    card_number: str = _text()
    bank: str = _text()
    township: str = _text()
    village: str = _text()
    group_name: str = _text()
    amount: MONEY = pa.Field()
    pay_date: dt.date = _text()
    status: str = pa.Field()
    failure_reason: str = _text()
    warnings: str = _text()


class LoadedDeaths(_Loaded):
    source_row: pl.Int32 = pa.Field()
    id_number: str = pa.Field()
    name: str = _text()
    death_date: dt.date = pa.Field()


class LoadedPublicEmployees(_Loaded):
    source_row: pl.Int32 = pa.Field()
    id_number: str = pa.Field()
    name: str = _text()
    employer: str = _text()


MODELS: dict[str, dict[str, type[pa.DataFrameModel]]] = {
    "raw": {
        "roster": RawRoster,
        "payments": RawPayments,
        "deaths": RawDeaths,
        "public_employees": RawPublicEmployees,
    },
    "normalised": {
        "roster": NormalisedRoster,
        "payments": NormalisedPayments,
        "deaths": NormalisedDeaths,
        "public_employees": NormalisedPublicEmployees,
    },
    # The same without the in-file key check (done by the loader across the parts of a table).
    "normalised_fields": {
        "roster": NormalisedRosterFields,
        "payments": NormalisedPayments,
        "deaths": NormalisedDeathsFields,
        "public_employees": NormalisedPublicEmployeesFields,
    },
    "loaded": {
        "roster": LoadedRoster,
        "payments": LoadedPayments,
        "deaths": LoadedDeaths,
        "public_employees": LoadedPublicEmployees,
    },
}
