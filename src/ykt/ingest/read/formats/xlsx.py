"""xlsx / xlsm workbooks: read by calamine; NUMBER cells, merged ranges and the date system read from the sheet XML."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import ClassVar
from xml.etree import ElementTree

import polars as pl

from ykt.config import Settings
from ykt.ingest.read.formats.base import FileFormat, Grid, merge_frame
from ykt.ingest.read.formats.limits import check_zip_directory
from ykt.ingest.read.formats.workbook import workbook_grids
from ykt.ingest.read.numbers import in_rows, number_cell_text


class XlsxFormat(FileFormat):
    suffixes: ClassVar[tuple[str, ...]] = (".xlsx", ".xlsm")
    advertised: ClassVar[tuple[str, ...]] = (".xlsx",)
    merges_cells: ClassVar[bool] = True
    keeps_formatting: ClassVar[bool] = True

    def read_grids(self, path: Path, find_big_numbers: bool, limits: Settings) -> list[Grid]:
        """`find_big_numbers` also locates the NUMBER cells holding 15+ digit values of each sheet
        (see big_number_cells), in a second thread while calamine parses the sheets."""
        return workbook_grids(path, self, big_number_cells if find_big_numbers else None, xlsx_date1904)

    def check_package(self, path: Path, limits: Settings) -> None:
        check_zip_directory(path, limits)

    def number_flags(
        self, frame: pl.DataFrame, grid: Grid, positions: dict[str, int], decisions: dict[str, bool] | None
    ) -> dict[str, pl.Expr]:
        big = grid.big_numbers
        if big is None:  # cells without references: the text pattern alone decides
            return {r: number_cell_text(r) for r in positions}
        return {r: in_rows(big.filter(pl.col("col") == c)["row"]) for r, c in positions.items()}

    def merged_ranges(self, grid: Grid) -> pl.DataFrame:
        return merge_frame(_xlsx_merges(grid.path, grid.sheet or ""))


XLSX = XlsxFormat()

_DATE1904 = re.compile(rb'<(?:\w+:)?workbookPr\b[^>]*\bdate1904="(?:1|true)"')


def xlsx_date1904(path: Path) -> bool:
    """Whether the workbook uses the 1904 date system (Excel for Mac's old default): then a date
    typed as a plain number counts days from 1904-01-01, not 1900. False when it cannot tell."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _DATE1904.search(archive.read("xl/workbook.xml")) is not None
    except (KeyError, OSError, zipfile.BadZipFile):
        return False


# A NUMBER cell whose value has 15+ digits: '<v>5.10723198001011E+17</v>', '<v>510723198001011000</v>'.
_BIG_VALUE = re.compile(rb"<v>(?:\d{15}|\d(?:\.\d+)?[Ee]\+?(?:1[4-9]|[2-9]\d)<)")
_CELL_TAG = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>')
_TEXT_TYPE = re.compile(rb'\bt="(?:s|str|inlineStr|b|e|d)"')
CHUNK = 16 << 20
BIG_NUMBER_SCHEMA = {"col": pl.Int32, "row": pl.Int32}


class _Unaddressed(Exception):
    """A cell without an r="…" reference: the file cannot tell where its number cells are."""


def big_number_cells(path: Path, sheet: str) -> pl.DataFrame | None:
    """NUMBER cells of an xlsx sheet holding a value of 15+ digits: (col 0-based, row 1-based).

    Such a cell in an ID or card column has lost digits (Excel keeps 15 significant digits).
    The sheet XML is streamed once and searched for the rare big <v> values (C-speed regex);
    only those few are located in Python. None when the file cannot tell (a cell without an
    r="…" reference, or an unreadable package): callers then judge by the text alone.
    """
    found: list[tuple[int, int]] = []
    try:
        with zipfile.ZipFile(path) as archive, archive.open(_xlsx_sheet_member(archive, sheet)) as stream:
            carry = b""
            while True:
                chunk = stream.read(CHUNK)
                buffer = carry + chunk
                cut = buffer.rfind(b"<c") if chunk else len(buffer)
                cut = cut if cut > 0 else len(buffer)
                for match in _BIG_VALUE.finditer(buffer, 0, cut):
                    cell = _number_cell_at(buffer, match.start())
                    if cell is not None:
                        found.append(cell)
                carry = buffer[cut:]
                if not chunk:
                    break
    except (_Unaddressed, KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return pl.DataFrame(found, schema=BIG_NUMBER_SCHEMA, orient="row")


def _number_cell_at(buffer: bytes, value_start: int) -> tuple[int, int] | None:
    """The (col, row) of the cell whose <v> starts here; None if it is a text cell."""
    tag = _CELL_TAG.match(buffer, buffer.rfind(b"<c", 0, value_start))
    if tag is None:
        raise _Unaddressed
    if _TEXT_TYPE.search(tag.group(0)):
        return None
    return _column_index(tag.group(1).decode()), int(tag.group(2))


def _xlsx_sheet_member(archive: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding a sheet: workbook.xml names it, workbook.xml.rels locates it."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    rel_attr = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    for node in workbook.iterfind("m:sheets/m:sheet", ns):
        if node.get("name") == sheet:
            target = targets[node.get(rel_attr)]
            return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    raise KeyError(sheet)


_MERGE = re.compile(rb'<mergeCell\s[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _xlsx_merges(path: Path, sheet: str) -> list[tuple[int, int, int, int]]:
    """<mergeCells> sits after all the cell data, so the sheet XML is streamed to its end."""
    found: list[tuple[bytes, ...]] = []
    with zipfile.ZipFile(path) as archive, archive.open(_xlsx_sheet_member(archive, sheet)) as stream:
        carry = b""
        while chunk := stream.read(CHUNK):
            buffer = carry + chunk
            cut = buffer.rfind(b"<")
            found.extend(_MERGE.findall(buffer[:cut]))
            carry = buffer[cut:]
        found.extend(_MERGE.findall(carry))
    return [
        (int(r1), _column_index(c1.decode()), int(r2), _column_index(c2.decode())) for c1, r1, c2, r2 in found
    ]


def _column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1
