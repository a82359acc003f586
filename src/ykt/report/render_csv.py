"""discrepancies.csv and rejects.csv: UTF-8 with BOM (Excel opens them), ISO dates, amounts as 1350.00,
columns in the contract's order (issue 2)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ykt.report.model import DISCREPANCY_COLUMNS, REJECT_COLUMNS, Report


def write_discrepancies_csv(report: Report, path: Path) -> None:
    _write_csv(report.discrepancies.select(DISCREPANCY_COLUMNS), path)


def write_rejects_csv(report: Report, path: Path) -> None:
    _write_csv(report.rejects.select(REJECT_COLUMNS), path)


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, include_bom=True)
