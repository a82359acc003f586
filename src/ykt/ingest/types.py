"""Plain typed values passed between stages (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

REJECT_COLUMNS = ("sheet", "row", "column", "value_masked", "reason_code", "reason")
# A RawTable column: True on the rows whose cells held control characters, removed by the reader
# (ykt.ingest.read.formats.limits); the normaliser gives such a row the TEXT_CONTROL_CHARS warning.
CLEANED = "row__control_chars"


@dataclass(frozen=True)
class RawTable:
    """One recognised table of one sheet, every cell still text.

    `frame` has one Utf8 column per recognised role (see schemas/columns.yaml) plus
    `source_row` (Int32: the row number as the spreadsheet shows it, 1-based).
    Title, blank, total (合计/小计) and signature rows are already removed.
    """

    path: Path
    sheet: str | None
    kind: str
    frame: pl.DataFrame
    headers: dict[str, str]  # role -> the header text as written in the file
    title: str = ""  # title lines above the header, joined
    control_total: Decimal | None = None  # the 合计 row's amount, when present
    program_hint: str | None = None  # program code found in title / file name
    period_hint: str | None = None  # canonical period found in title / file name
    positions: dict[str, int] = field(
        default_factory=dict
    )  # role -> 0-based sheet column (A = 0), for `ykt check`
    date1904: bool = False  # the workbook counts dates from 1904 (Excel for Mac's old default)
    header_row: int = 0  # the spreadsheet row (1-based) of the header's first line
    # What the reader inferred rather than read (a role by content, the beneficiary, the program), in Chinese.
    inferences: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableEnd:
    """Follows the last part of a table read in parts (a big CSV): what only the whole table tells.
    `table` is the table's first part (path, sheet, headers, hints)."""

    table: RawTable
    control_total: Decimal | None


@dataclass(frozen=True)
class Normalised:
    """A table after normalisation and validation: typed rows to load, and rows rejected."""

    kind: str
    loaded: pl.DataFrame  # columns: KindSpec.loaded_columns
    rejects: pl.DataFrame  # columns: REJECT_COLUMNS
    rows_read: int
    # Sum of the amounts written on the data rows (parseable ones, rejected rows included),
    # to compare with the file's 合计 row; None when the table has no amount column.
    detail_total: Decimal | None = None
    # Only when the in-file key check is left to the loader (a table read in parts): the keys
    # (sheet, source_row + the kind's key columns) of rows that passed parsing but that pandera
    # rejected: such a row still counts as its key's first occurrence.
    typed_keys: pl.DataFrame | None = None
    inferences: tuple[str, ...] = ()  # values read by meaning (a bank status by its words), in Chinese

    def __post_init__(self) -> None:
        # Row accounting is a contract, not a hope: every row is loaded or rejected.
        rejected_rows = (
            self.rejects.select(pl.struct("sheet", "row").n_unique()).item() if self.rejects.height else 0
        )
        if self.loaded.height + rejected_rows != self.rows_read:
            raise AssertionError(
                f"row accounting broken: read {self.rows_read}, loaded {self.loaded.height}, rejected {rejected_rows}"
            )


@dataclass(frozen=True)
class FileResult:
    """What happened to one inbox file in one run (one line of run.json's `files`)."""

    name: str
    kind: str
    file_hash: str
    status: str  # loaded | duplicate | rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    reason_code: str | None = None  # why the file was not loaded (ykt.reasons.FILE_REASONS); None when loaded
    inferences: tuple[str, ...] = field(default_factory=tuple)  # what reading it inferred, in Chinese
