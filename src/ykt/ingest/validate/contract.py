"""Pandera validation of each stage, and the conversion of failures into rejects rows.

The models live in `schemas/models.py` (installed as `ykt.schemas.models`). Typed
frames are validated eagerly and lazily (`lazy=True`), so every failure of a file
is collected in one pass; `SchemaErrors.failure_cases` row indexes are mapped back
to the spreadsheet's own row numbers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pandera.polars as pa
import polars as pl

from ykt.errors import YktError
from ykt.ingest.columns import error_sources
from ykt.ingest.types import REJECT_COLUMNS, RawTable
from ykt.masking import mask_value_expr
from ykt.reasons import ROW_REASONS
from ykt.schemas import INVALID_REASONS, MISSING_REASONS, MODELS

# The input of make_rejects when there is nothing to reject.
NO_REJECTS = pl.DataFrame(
    schema={"source_row": pl.Int32, "column": pl.String, "value": pl.String, "reason_code": pl.String}
)


class ContractError(YktError):
    """A stage handed the next one a frame that breaks the internal contract (a bug, not bad input)."""


def make_rejects(frame: pl.DataFrame, sheet: str | None) -> pl.DataFrame:
    """frame[source_row, column, value, reason_code] → rejects rows (REJECT_COLUMNS):
    the value masked (ID and card digits hidden), the reason in Chinese."""
    return frame.select(
        pl.lit(sheet, pl.String).alias("sheet"),
        pl.col("source_row").cast(pl.Int32).alias("row"),
        pl.col("column").cast(pl.String),
        mask_value_expr(pl.col("value").cast(pl.String)).alias("value_masked"),
        pl.col("reason_code").cast(pl.String),
        pl.col("reason_code")
        .replace_strict(ROW_REASONS, default=None, return_dtype=pl.String)
        .alias("reason"),
    ).select(REJECT_COLUMNS)


def _schema_problems(failures: pl.DataFrame, stage: str, kind: str, where: str) -> ContractError:
    lines = "; ".join(
        f"{r['column']}: {r['check']} ({r['failure_case']})" for r in failures.head(10).iter_rows(named=True)
    )
    return ContractError(
        f"{stage} stage of a {kind} table breaks the {MODELS[stage][kind].__name__} model: {lines}",
        where=where,
        hint="This is a defect between pipeline stages, not a problem of the file; report it with the file.",
    )


_ENGINE_LOCK = threading.Lock()
_ENGINE_USERS = 0


@contextmanager
def _in_memory_engine() -> Iterator[None]:
    """pandera collects each check's query with polars' default engine; our frames are in memory
    already, where the in-memory engine runs these small queries with less overhead.

    The default is process-wide, so it is set while any validation runs (parts are validated
    while others are read) and cleared after the last. It is set as an engine object, a Python
    setting: changing the environment while other threads run polars is not safe. An affinity
    the user set in POLARS_ENGINE_AFFINITY is left alone."""
    global _ENGINE_USERS
    if "POLARS_ENGINE_AFFINITY" in os.environ:
        yield
        return
    with _ENGINE_LOCK:
        if _ENGINE_USERS == 0:
            pl.Config.set_engine_affinity(pl.InMemoryEngine())
        _ENGINE_USERS += 1
    try:
        yield
    finally:
        with _ENGINE_LOCK:
            _ENGINE_USERS -= 1
            if _ENGINE_USERS == 0:
                pl.Config.set_engine_affinity(None)


def _validate(frame: pl.DataFrame, stage: str, kind: str) -> pl.DataFrame | None:
    """Validate lazily; None when valid, else all failure cases."""
    try:
        with _in_memory_engine():
            MODELS[stage][kind].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures: pl.DataFrame = exc.failure_cases  # the polars backend's failure cases are a polars frame
        return failures
    return None


def validate_raw(table: RawTable) -> None:
    """The reader's table: text roles, unique 1-based row numbers. A failure is a defect."""
    failures = _validate(table.frame, "raw", table.kind)
    if failures is not None:
        raise _schema_problems(failures, "raw", table.kind, f"{table.path.name} / {table.sheet}")


def validate_loaded(loaded: pl.DataFrame, kind: str) -> None:
    """Exactly the warehouse columns and dtypes, in order. A failure is a defect."""
    failures = _validate(loaded, "loaded", kind)
    if failures is not None:
        raise _schema_problems(failures, "loaded", kind, kind)


def _failure_reason(schema_context: str, column: str | None, check: str) -> str | None:
    if schema_context == "DataFrameSchema":
        return check if check in ROW_REASONS else None
    by_column: dict[str, str]
    if check == "not_nullable":
        by_column = MISSING_REASONS
    elif check.startswith("field_uniqueness") or column == "source_row":
        return None
    else:
        by_column = INVALID_REASONS
    return by_column.get(column or "")


def failure_rejects(failures: pl.DataFrame, typed: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """Pandera failure cases (row index into `typed`) → rejects rows with the file's
    own row number and header. Schema-level failures (no row) are defects and raise."""
    kinds = failures.select(
        "schema_context", "column", "check"
    ).unique()  # a few kinds, however many rows fail
    kinds = kinds.with_columns(
        pl.Series("reason_code", [_failure_reason(*k) for k in kinds.iter_rows()], dtype=pl.String)
    )
    failures = failures.join(
        kinds, on=["schema_context", "column", "check"], how="left", nulls_equal=True, maintain_order="left"
    )
    unmapped = failures.filter(pl.col("index").is_null() | pl.col("reason_code").is_null())
    if unmapped.height:
        raise _schema_problems(unmapped, "normalised", table.kind, f"{table.path.name} / {table.sheet}")
    headers = {target: header for target, (_, header) in error_sources(table).items()}
    # A dataframe-level failure (duplicate key) is reported on the ID column.
    failures = failures.with_columns(
        pl.when(pl.col("schema_context") == "DataFrameSchema")
        .then(pl.lit("id_number"))
        .otherwise(pl.col("column"))
        .alias("column"),
    )
    rows = (
        typed.select("source_row", "id_number")
        .with_row_index("index")
        .with_columns(pl.col("index").cast(pl.Int32))
    )
    joined = failures.join(rows, on="index", how="left")
    frame = joined.select(
        "source_row",
        pl.col("column")
        .replace_strict(headers, default=pl.col("column"), return_dtype=pl.String)
        .alias("column"),
        pl.when(pl.col("schema_context") == "DataFrameSchema")
        .then(pl.col("id_number"))
        .otherwise(pl.col("failure_case"))
        .alias("value"),
        "reason_code",
    )
    return make_rejects(frame, table.sheet)


def validate_normalised(
    typed: pl.DataFrame, table: RawTable, key_check: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Check the typed frame; return (rows that pass, rejects for rows that do not).
    `key_check=False`: without the in-file key uniqueness (the loader checks it across a table's parts)."""
    stage = "normalised" if key_check else "normalised_fields"
    failures = _validate(typed, stage, table.kind)
    if failures is None:
        return typed, make_rejects(NO_REJECTS, table.sheet)
    rejects = failure_rejects(failures, typed, table)
    return typed.filter(~pl.col("source_row").is_in(rejects["row"].implode())), rejects
