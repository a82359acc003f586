"""Reading budgets: every file is read under explicit limits (programs.yaml `settings`, ykt.config.Settings),
checked before parsing (bytes on disk; for zip packages the zip directory: total unpacked size, member
count, compression ratio) and while parsing (rows, columns, cell length; CSV line length as its parts are
cut, see formats/csv.py). A file over a budget is rejected as a whole (FILE_TOO_LARGE), naming the file
and the limit; the night goes on with the others.

Text is cleaned here, once: NUL and the other C0 control characters (tab, newline and carriage return
kept) and DEL are removed from every cell, and the grid records the rows that held them (the row keeps a
TEXT_CONTROL_CHARS warning): nothing downstream (names, workbooks, `ykt check`) meets them.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import polars as pl

from ykt.config import Settings
from ykt.errors import InputFileError
from ykt.masking import printable

CONTROL_CHARS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
_RATIO_MIN_MEMBER = 1 << 20  # a zip member is judged by its ratio from this unpacked size on
# A sheet this large is counted row by row (streamed, before any parser holds it) when it is large: tiny
# rows (`<row r="1"/>`…) pass the size budget yet would make the parser hold tens of millions of rows.
_COUNT_ROWS_FROM = 64 << 20
_ROW_TAGS = (b"<row", b"<table:table-row")  # xlsx sheets, ods content.xml
_CHUNK = 16 << 20


def too_large(
    path: Path, message: str, hint: str = "请拆分成较小的文件，或另存为 .xlsx 后重新上传"
) -> InputFileError:
    return InputFileError("FILE_TOO_LARGE", message, where=printable(Path(path).name), hint=hint)


def size_text(size: float) -> str:
    """1.5e9 -> '约 1.4 GB', 500_000_000 -> '约 477 MB' (binary units, as file managers show them)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"约 {size / scale:.3g} {unit}"
    return f"{int(size)} 字节"


def check_file_bytes(path: Path, limits: Settings) -> None:
    """Bytes on disk, before anything is read (lstat: an inbox entry is never followed)."""
    size = os.lstat(path).st_size
    if size > limits.max_file_bytes:
        raise too_large(path, f"文件大小{size_text(size)}，超过 {size_text(limits.max_file_bytes)} 上限")


def check_xls_bytes(path: Path, limits: Settings) -> None:
    """A legacy .xls has a smaller byte budget than other formats: calamine parses the whole workbook,
    every sheet's cells at once, before the first sheet is read (lstat: never followed)."""
    size = os.lstat(path).st_size
    if size > limits.max_xls_bytes:
        raise too_large(
            path,
            f"旧版 .xls 文件大小{size_text(size)}，超过 {size_text(limits.max_xls_bytes)} 上限（.xls 须整本读入内存）",
            "请用 Excel 或 WPS 另存为 .xlsx 或 .csv，或按乡镇拆分成较小的文件后重新上传",
        )


def check_zip_directory(path: Path, limits: Settings) -> None:
    """A zip package (xlsx, ods) judged by its directory before any member is unpacked: member count,
    total unpacked size, and the compression ratio of each member of 1 MB or more (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip package at all: the format's reader says it cannot open it
    if len(members) > limits.max_zip_entries:
        raise too_large(
            path, f"文件内含 {len(members)} 个部件，超过 {limits.max_zip_entries} 个上限，疑似压缩炸弹"
        )
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unpacked_bytes:
        raise too_large(
            path,
            f"文件解压后{size_text(unpacked)}，超过 {size_text(limits.max_unpacked_bytes)} 上限；"
            "请拆分成较小的文件（如按乡镇）后重新上传",
        )
    _check_ratios(path, members, limits)
    for m in members:
        if m.file_size >= _COUNT_ROWS_FROM and _is_sheet(m.filename):
            _check_row_count(path, m, limits.max_rows)


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") or name == "content.xml"


def _check_row_count(path: Path, member: zipfile.ZipInfo, max_rows: int) -> None:
    """Count the member's row tags in bounded memory, stopping as soon as there are too many."""
    rows, tail = 0, b""
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            block = tail + chunk
            rows += sum(block.count(tag) for tag in _ROW_TAGS)
            tail = block[-16:]
            rows -= sum(tail.count(tag) for tag in _ROW_TAGS)  # counted again with the next block
            if rows > max_rows:
                raise too_large(
                    path, f"工作表超过 {max_rows} 行上限（解析前已数出）；请拆分成较小的文件后重新上传"
                )


def _check_ratios(path: Path, members: list[zipfile.ZipInfo], limits: Settings) -> None:
    for m in members:
        if m.file_size >= _RATIO_MIN_MEMBER and m.file_size > limits.max_zip_ratio * max(m.compress_size, 1):
            ratio = m.file_size // max(m.compress_size, 1)
            raise too_large(
                path,
                f"文件中的 {printable(m.filename)} 压缩比约 {ratio} 倍，超过 {limits.max_zip_ratio} 倍上限，疑似压缩炸弹",
            )


def check_shape(
    path: Path, sheet: str | None, frame: pl.DataFrame, first_row: int, rows_before: int, limits: Settings
) -> None:
    """Rows (of the whole file so far), columns and the longest cell of one grid."""
    where = f"工作表“{printable(sheet)}”" if sheet else "文件"
    if rows_before + frame.height > limits.max_rows:
        raise too_large(path, f"{where}超过 {limits.max_rows} 行上限")
    if frame.width > limits.max_columns:
        raise too_large(path, f"{where}有 {frame.width} 列，超过 {limits.max_columns} 列上限")
    long = [pl.col(c).str.len_chars() > limits.max_cell_chars for c in frame.columns]
    if not long:
        return
    hit = frame.with_row_index("_i").filter(pl.any_horizontal(long)).head(1)
    if hit.height:
        column = next(c for c in frame.columns if len(hit[c][0] or "") > limits.max_cell_chars)
        raise too_large(
            path,
            f"{where}第{first_row + int(hit['_i'][0])}行第{int(column[1:]) + 1}列的单元格超过 {limits.max_cell_chars} 个字符上限",
            '请检查该单元格是否误粘贴了大段内容；CSV 文件也常因多了一个不成对的英文引号 " 而把多行读成一格',
        )


def cleaned(frame: pl.DataFrame, first_row: int) -> tuple[pl.DataFrame, pl.Series]:
    """Cells without control characters, and the spreadsheet rows (Int32) that held any."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return frame, pl.Series("row", [], pl.Int32)
    dirty = frame.select(
        pl.any_horizontal(pl.col(c).str.contains(CONTROL_CHARS) for c in text).fill_null(False)
    )
    rows = pl.int_range(first_row, first_row + frame.height, dtype=pl.Int32, eager=True).filter(
        dirty.to_series()
    )
    if rows.len() == 0:
        return frame, rows.alias("row")
    return frame.with_columns(pl.col(c).str.replace_all(CONTROL_CHARS, "") for c in text), rows.alias("row")
