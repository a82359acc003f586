"""Legacy .xls (BIFF) workbooks: read by calamine; NUMBER cells and merged ranges asked of calamine's typed view."""

from __future__ import annotations

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
        sheet = python_calamine.CalamineWorkbook.from_path(str(grid.path)).get_sheet_by_name(grid.sheet or "")
        return merge_frame(
            [(r1 + 1, c1, r2 + 1, c2) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []]
        )


def xls_number_rows(grid: Grid, columns: Iterable[int]) -> dict[int, pl.Series]:
    """For each column, the rows whose cell is a NUMBER cell (python-calamine typed values).

    This walks the rows of the asked columns in Python, which is acceptable only because
    a BIFF sheet holds at most 65,536 rows and we only get here when a column has suspects.
    """
    sheet = python_calamine.CalamineWorkbook.from_path(str(grid.path)).get_sheet_by_name(grid.sheet or "")
    values = sheet.to_python(skip_empty_area=False)
    result = {}
    for c in columns:
        rows = [i + 1 for i, row in enumerate(values) if c < len(row) and type(row[c]) in (int, float)]
        result[c] = pl.Series("row", rows, dtype=pl.Int32)
    return result


XLS = XlsFormat()
