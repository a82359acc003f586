"""What every file format offers the reader: a `Grid` per sheet, and the format's own answers about it.

A `Grid` is one sheet (or one CSV file) as a polars frame whose columns are named `c<column index>`
(0-based, as in the sheet: column A is c0) and whose row i is the spreadsheet's row i + 1 (for CSV:
line i + 1). Nothing is inferred: every cell is read as the text the spreadsheet shows.

Reading as text hides whether a cell was a NUMBER cell, and only the file itself can tell: each
format answers that (`number_flags`), and whether its sheets can hold merged cells, in its own way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl

from ykt.config import Settings
from ykt.errors import InputFileError
from ykt.masking import printable

MERGE_COLUMNS = ("first_row", "first_col", "last_row", "last_col")  # rows 1-based, columns 0-based


@dataclass(frozen=True)
class Grid:
    path: Path
    sheet: str | None  # None for CSV
    format: FileFormat  # the format that read it, which answers the questions about its cells
    frame: pl.DataFrame  # columns c<index>, all Utf8; row i = spreadsheet row i + 1
    big_numbers: pl.DataFrame | None = (
        None  # xlsx: NUMBER cells with 15+ digit values (col, row); None = not known
    )
    date1904: bool = False  # xlsx: the workbook counts date serials from 1904-01-01 (workbook.xml date1904)
    first_row: int = (
        1  # the spreadsheet row (CSV: line) of frame row 0: a CSV read in parts starts further down
    )
    # spreadsheet rows (Int32) whose cells held control characters, removed by the reader (formats/limits.py)
    cleaned_rows: pl.Series | None = None


class FileFormat(ABC):
    """One file format, registered by its suffixes (ykt.ingest.read.formats.FORMATS)."""

    suffixes: ClassVar[tuple[str, ...]]  # lower case, with the dot; the first ones are named to clerks
    advertised: ClassVar[tuple[str, ...]]  # the suffixes a clerk is told to upload
    reads_in_parts: ClassVar[bool] = False  # a big file is read part by part (grid_parts) in bounded memory
    merges_cells: ClassVar[bool] = False  # its sheets can hold merged cells (merged_ranges)
    keeps_formatting: ClassVar[bool] = False  # openpyxl opens the file itself, with the clerk's formatting

    @abstractmethod
    def read_grids(self, path: Path, find_big_numbers: bool, limits: Settings) -> list[Grid]:
        """Every visible sheet of the file (or its one table), as text. Raises InputFileError."""

    def check_package(self, path: Path, limits: Settings) -> None:
        """What the format can judge of a file before parsing it (a zip package's directory). Raises
        InputFileError (FILE_TOO_LARGE). Nothing by default."""
        return None

    @abstractmethod
    def number_flags(
        self, frame: pl.DataFrame, grid: Grid, positions: dict[str, int], decisions: dict[str, bool] | None
    ) -> dict[str, pl.Expr]:
        """Per identity role (role -> its 0-based sheet column): an expression over `frame` that is True on
        the rows whose cell was a NUMBER cell. `decisions`: a file read in parts gets the whole file's
        column decisions (see ykt.ingest.read.numbers.excel_made)."""

    def grid_parts(self, path: Path, batch_lines: int, first_lines: int, limits: Settings) -> Iterator[Grid]:
        """The file as consecutive Grids of `batch_lines` lines (the first of at least `first_lines`)."""
        raise NotImplementedError(f"{type(self).__name__} is read whole")

    def whole_file_error(self, path: Path) -> InputFileError | None:
        """The error reading the whole file raises before anything else (e.g. its encoding), if any."""
        return None

    def merged_ranges(self, grid: Grid) -> pl.DataFrame:
        """Merged cell ranges of a sheet (MERGE_COLUMNS). Only the first cell of a range holds the value."""
        return merge_frame([])

    def raw_line_count(self, path: Path) -> int:
        """Non-blank lines of a file no table could be read from, for row accounting (never raises)."""
        return 0


def unreadable(path: Path, message: str, hint: str) -> InputFileError:
    """The file cannot be opened or parsed as its format: rejected as a whole (FILE_UNREADABLE)."""
    return InputFileError("FILE_UNREADABLE", message, where=printable(path.name), hint=hint)


def merge_frame(ranges: list[tuple[int, int, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(ranges, schema=dict.fromkeys(MERGE_COLUMNS, pl.Int32), orient="row")
