"""cases.jsonl / clues.jsonl: one object per line, sorted by case_id, UTF-8 (not \\u-escaped), dates ISO,
`amount` a JSON number written with exactly two decimals (171520.00).

Each line is byte for byte the payload `ykt.cases` queues for the platform (one definition of a case
object), so this writer only lays the lines out. No timestamps inside: re-running a night is
byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ykt.report.arrow_text import arrow_text
from ykt.report.model import Report


def write_cases_jsonl(report: Report, path: Path) -> None:
    _write_lines(report.case_lines, path)


def write_clues_jsonl(report: Report, path: Path) -> None:
    _write_lines(report.clue_lines, path)


def _write_lines(lines: pl.Series, path: Path) -> None:
    """One text per line, UTF-8, straight from the column's Arrow buffer (no Python string per line)."""
    terminated = lines.to_frame("line").select(pl.concat_str(pl.col("line"), pl.lit("\n"))).to_series()
    path.write_bytes(arrow_text(terminated.to_arrow()))
