"""discrepancies.csv and rejects.csv: UTF-8 with BOM (Excel opens them), ISO dates, amounts as 1350.00,
columns in the contract's order (issue 2). Text a clerk typed that a spreadsheet would run as a formula
(=HYPERLINK(…), +1+1, @SUM…) is written with a leading apostrophe."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ykt.masking import neutralise_formula_expr
from ykt.report.model import DISCREPANCIES_CSV_COLUMNS, REJECTS_CSV_COLUMNS, Report


def write_discrepancies_csv(report: Report, path: Path) -> None:
    _write_csv(report.discrepancies.select(DISCREPANCIES_CSV_COLUMNS), path)


def write_rejects_csv(report: Report, path: Path) -> None:
    _write_csv(report.rejects.select(REJECTS_CSV_COLUMNS), path)


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    frame.with_columns(neutralise_formula_expr(pl.col(c)) for c in texts).write_csv(path, include_bom=True)
