"""Legacy .xls (BIFF) workbooks: read by calamine; NUMBER cells and merged ranges asked of calamine's typed view."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import polars as pl
import python_calamine

from ykt.config import Settings
from ykt.ingest.read.formats.base import FileFormat, Grid, merge_frame
from ykt.ingest.read.formats.limits import check_xls_bytes
from ykt.ingest.read.formats.workbook import workbook_grids
from ykt.ingest.read.numbers import in_rows, number_cell_text


class XlsFormat(FileFormat):
    suffixes: ClassVar[tuple[str, ...]] = (".xls",)
    advertised: ClassVar[tuple[str, ...]] = (".xls",)
    merges_cells: ClassVar[bool] = True
    # a .xls holds up to 65,536 rows a sheet, so a big one has many sheets: its typed view is parsed once
    # per file (typed_workbook), not once per sheet
    parsed_once: ClassVar[bool] = True

    def check_package(self, path: Path, limits: Settings) -> None:
        check_xls_bytes(path, limits)

    def read_grids(self, path: Path, find_big_numbers: bool, limits: Settings) -> list[Grid]:
        # no sheet XML to scan: NUMBER cells are confirmed per suspect column (number_flags)
        return workbook_grids(path, self, None, None)

    def number_flags(
        self, frame: pl.DataFrame, grid: Grid, positions: dict[str, int], decisions: dict[str, bool] | None
    ) -> dict[str, pl.Expr]:
        """Only columns with a value that prints like a big number are confirmed cell by cell."""
        roles = list(positions)
        suspect = (
            frame.select([number_cell_text(r).any().alias(r) for r in roles]).row(0, named=True)
            if roles
            else {}
        )
        confirm = [r for r in roles if suspect[r]]
        numbers = xls_number_rows(grid, [positions[r] for r in confirm]) if confirm else {}
        return {
            r: number_cell_text(r) & in_rows(numbers[positions[r]]) if r in confirm else pl.lit(False)
            for r in roles
        }

    def merged_ranges(self, grid: Grid) -> pl.DataFrame:
        sheet = typed_workbook(grid).get_sheet_by_name(grid.sheet or "")
        return merge_frame(
            [(r1 + 1, c1, r2 + 1, c2) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []]
        )


def xls_number_rows(grid: Grid, columns: Iterable[int]) -> dict[int, pl.Series]:
    """For each column, the rows whose cell is a NUMBER cell (python-calamine typed values).

    This walks the rows of the asked columns in Python, which is acceptable only because
    a BIFF sheet holds at most 65,536 rows and we only get here when a column has suspects.
    """
    sheet = typed_workbook(grid).get_sheet_by_name(grid.sheet or "")
    values = sheet.to_python(skip_empty_area=False)
    result = {}
    for c in columns:
        rows = [i + 1 for i, row in enumerate(values) if c < len(row) and type(row[c]) in (int, float)]
        result[c] = pl.Series("row", rows, dtype=pl.Int32)
    return result


def typed_workbook(grid: Grid) -> python_calamine.CalamineWorkbook:
    """python-calamine's typed view of a workbook, parsed once per file: calamine parses a whole .xls
    (every sheet) when it opens it, and each sheet of a 14-sheet roster asking again took 20 of its 40 s
    to read. Kept (keyed by size and mtime) until `forget_typed_workbooks`, called when the file is read:
    held any longer it added ~120–230 MB to the rest of the night."""
    if not (isinstance(grid.format, XlsFormat) and grid.format.parsed_once):  # an .ods: parsed when asked
        return python_calamine.CalamineWorkbook.from_path(str(grid.path))
    info = os.stat(grid.path)
    return _typed_workbook(str(grid.path), info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=1)
def _typed_workbook(path: str, size: int, mtime_ns: int) -> python_calamine.CalamineWorkbook:
    return python_calamine.CalamineWorkbook.from_path(path)


def forget_typed_workbooks() -> None:
    _typed_workbook.cache_clear()


XLS = XlsFormat()
