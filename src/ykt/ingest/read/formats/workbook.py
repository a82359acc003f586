"""Workbooks (xlsx, xls) through fastexcel/calamine: every visible sheet as text."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import fastexcel
import polars as pl

from ykt.errors import InputFileError
from ykt.ingest.read.formats.base import FileFormat, Grid, unreadable

# (path, sheet) -> the sheet's NUMBER cells holding 15+ digit values (col, row), None when it cannot tell
BigNumberScan = Callable[[Path, str], pl.DataFrame | None]


def workbook_grids(
    path: Path, fmt: FileFormat, scan: BigNumberScan | None, date1904: Callable[[Path], bool] | None
) -> list[Grid]:
    """`scan` runs per sheet in a second thread while calamine parses; `date1904` tells the workbook's date system."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            reader = fastexcel.read_excel(path)
            # the scan streams the zip while calamine (which releases the GIL) parses, on the other core
            scans: dict[str, Future[pl.DataFrame | None]] = (
                {n: pool.submit(scan, path, n) for n in reader.sheet_names} if scan is not None else {}
            )
            sheets = [
                reader.load_sheet(i, header_row=None, dtypes="string", skip_rows=0)
                for i in range(len(reader.sheet_names))
            ]
        except fastexcel.FastExcelError as exc:
            raise _unreadable(path, exc) from None
        in_1904 = date1904 is not None and date1904(path)
        # Hidden sheets are skipped: the clerk who uploads the file does not see them
        # (they typically hold last month's data or drop-down lists).
        return [
            Grid(
                path,
                sheet.name,
                fmt,
                _named_by_position(sheet),
                scans[sheet.name].result() if scans else None,
                in_1904,
            )
            for sheet in sheets
            if sheet.visible == "visible"
        ]


def _unreadable(path: Path, exc: Exception) -> InputFileError:
    return unreadable(
        path,
        f"无法打开工作簿（{type(exc).__name__}）",
        "请确认文件没有损坏、没有加密，并用 Excel 或 WPS 另存为 .xlsx 后重新上传",
    )


def _named_by_position(sheet: fastexcel.ExcelSheet) -> pl.DataFrame:
    """Columns renamed c<absolute index>: calamine drops leading empty columns, we keep positions."""
    frame: pl.DataFrame = sheet.to_polars()
    names = {info.name: f"c{info.absolute_index}" for info in sheet.available_columns()}
    return frame.rename(names)
