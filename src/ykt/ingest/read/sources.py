"""Files → grids of text: every cell as the spreadsheet shows it, no type guessing.

A `Grid` is one sheet (or one CSV file) as a polars frame whose columns are named
`c<column index>` (0-based, as in the sheet: column A is c0) and whose row i is the
spreadsheet's row i + 1 (for CSV: line i + 1). Nothing is inferred: fastexcel reads
with `dtypes="string"`, polars reads CSV with `infer_schema=False`.

Because reading as text hides whether a cell was a NUMBER cell, `big_number_cells`
(xlsx) and `xls_number_rows` (.xls) ask the file itself (see reading.py).
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import fastexcel
import polars as pl
import python_calamine

from ykt.errors import InputFileError
from ykt.ingest.read import gb18030

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
TEXT_SUFFIXES = (".csv", ".txt")
SAMPLE_BYTES = 1 << 16


@dataclass(frozen=True)
class Grid:
    path: Path
    sheet: str | None  # None for CSV
    fmt: str  # "xlsx" | "xls" | "csv"
    frame: pl.DataFrame  # columns c<index>, all Utf8; row i = spreadsheet row i + 1
    big_numbers: pl.DataFrame | None = (
        None  # xlsx: NUMBER cells with 15+ digit values (col, row); None = not known
    )
    date1904: bool = False  # xlsx: the workbook counts date serials from 1904-01-01 (workbook.xml date1904)
    first_row: int = (
        1  # the spreadsheet row (CSV: line) of frame row 0: a CSV read in parts starts further down
    )


def read_grids(path: Path, find_big_numbers: bool = False) -> list[Grid]:
    """Every visible sheet of a workbook, or the one table of a CSV/TXT file.

    `find_big_numbers` also locates the NUMBER cells holding 15+ digit values of each xlsx
    sheet (see big_number_cells), in a second thread while calamine parses the sheets.
    """
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _excel_grids(path, find_big_numbers and suffix != ".xls")
    if suffix in TEXT_SUFFIXES:
        return [Grid(path, None, "csv", _csv_frame(path))]
    raise InputFileError(
        "FILE_UNREADABLE",
        f"不支持的文件类型“{path.suffix}”",
        where=path.name,
        hint="请上传 .xlsx、.xls、.csv 或 .txt 文件",
    )


# -- Excel -------------------------------------------------------------------------


def _excel_grids(path: Path, find_big_numbers: bool) -> list[Grid]:
    fmt = "xls" if path.suffix.lower() == ".xls" else "xlsx"
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            reader = fastexcel.read_excel(path)
            # the scan streams the zip while calamine (which releases the GIL) parses: ~free on 2 cores
            scans = (
                {n: pool.submit(big_number_cells, path, n) for n in reader.sheet_names}
                if find_big_numbers
                else {}
            )
            sheets = [
                reader.load_sheet(i, header_row=None, dtypes="string", skip_rows=0)
                for i in range(len(reader.sheet_names))
            ]
        except fastexcel.FastExcelError as exc:
            raise _unreadable(path, exc) from None
        date1904 = fmt == "xlsx" and xlsx_date1904(path)
        # Hidden sheets are skipped: the clerk who uploads the file does not see them
        # (they typically hold last month's data or drop-down lists).
        return [
            Grid(
                path,
                sheet.name,
                fmt,
                _named_by_position(sheet),
                scans[sheet.name].result() if scans else None,
                date1904,
            )
            for sheet in sheets
            if sheet.visible == "visible"
        ]


_DATE1904 = re.compile(rb'<(?:\w+:)?workbookPr\b[^>]*\bdate1904="(?:1|true)"')


def xlsx_date1904(path: Path) -> bool:
    """Whether the workbook uses the 1904 date system (Excel for Mac's old default): then a date
    typed as a plain number counts days from 1904-01-01, not 1900. False when it cannot tell."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _DATE1904.search(archive.read("xl/workbook.xml")) is not None
    except (KeyError, OSError, zipfile.BadZipFile):
        return False


def _unreadable(path: Path, exc: Exception) -> InputFileError:
    return InputFileError(
        "FILE_UNREADABLE",
        f"无法打开工作簿：{str(exc).splitlines()[0]}",
        where=path.name,
        hint="请确认文件没有损坏、没有加密，并用 Excel 或 WPS 另存为 .xlsx 后重新上传",
    )


def _named_by_position(sheet: fastexcel.ExcelSheet) -> pl.DataFrame:
    """Columns renamed c<absolute index>: calamine drops leading empty columns, we keep positions."""
    frame = sheet.to_polars()
    names = {info.name: f"c{info.absolute_index}" for info in sheet.available_columns()}
    return frame.rename(names)


# -- CSV / TXT -------------------------------------------------------------------------


def _csv_frame(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    body, encoding = _utf8_body(data, path)
    separator = _sniff_separator(body[:SAMPLE_BYTES].decode("utf-8", errors="ignore"))
    try:
        return _parse_csv(body, separator)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc) and encoding == "utf-8":
            # The sample looked like UTF-8 but a later part is not: it is GB18030 after all.
            return _parse_csv(_gb18030_to_utf8(data, path), separator)
        raise _unparseable_csv(path, exc) from None


# -- CSV / TXT in parts (bounded memory) ----------------------------------------------------

READ_BYTES = 4 << 20  # csv_encoding's reads


def csv_grids(path: Path, batch_lines: int, first_lines: int) -> Iterator[Grid]:
    """A CSV/TXT file as consecutive Grids of `batch_lines` lines (the first of at least
    `first_lines`), so a big file never sits whole in memory; the same cells as `read_grids`.

    Blocks are cut after a newline byte outside quotes: GB18030 and UTF-8 never use byte
    0x0A or '"' inside a multi-byte character, so a cut never splits a character, and a
    quoted cell holding a newline stays whole (its line count is what the quotes allow).
    """
    encoding = csv_encoding(path)
    if encoding == "utf-16":  # rare and small: its newlines are two bytes, read it whole
        yield read_grids(path)[0]
        return
    with open(path, "rb") as stream:
        if encoding == "utf-8-sig":
            stream.read(3)
        separator, width, first_row, offset = None, 1, 1, stream.tell()
        for block in _line_blocks(stream, batch_lines, max(first_lines, 1)):
            body = _gb18030_to_utf8(block, path, offset) if encoding == "gb18030" else block
            if separator is None:
                separator = _sniff_separator(body[:SAMPLE_BYTES].decode("utf-8", errors="ignore"))
            frame = _parse_csv_part(body, separator, width, path)
            width = max(width, frame.width)
            yield Grid(path, None, "csv", frame, first_row=first_row)
            first_row, offset = first_row + frame.height, offset + len(block)


def csv_encoding_error(path: Path) -> InputFileError | None:
    """The FILE_ENCODING error reading the whole file would raise first, if any (a file read in
    parts meets its other problems earlier than that; the whole-file reader decodes first)."""
    encoding = csv_encoding(path)
    if encoding != "gb18030":
        return None
    decoder, line = codecs.getincrementaldecoder("gb18030")(), 1
    with open(path, "rb") as stream:
        while True:
            chunk = stream.read(READ_BYTES)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return _encoding_error(path, line + chunk.count(b"\n", 0, max(exc.start, 0)))
            if not chunk:
                return None
            line += chunk.count(b"\n")


def _parse_csv_part(body: bytes, separator: str, width: int, path: Path) -> pl.DataFrame:
    try:
        frame = _parse_csv(body, separator, min_width=width)
    except pl.exceptions.ComputeError as exc:
        raise _unparseable_csv(path, exc) from None
    return frame


def _unparseable_csv(path: Path, exc: Exception) -> InputFileError:
    return InputFileError(
        "FILE_UNREADABLE",
        f"CSV 文件无法解析：{exc}",
        where=path.name,
        hint="请用 Excel 打开后另存为 .xlsx 再上传",
    )


def _line_blocks(stream, batch_lines: int, first_lines: int) -> Iterator[bytes]:
    """Blocks of whole lines (the last may lack its newline): the first holds `first_lines` lines
    (or all there is), the others about `batch_lines` (their byte size from the first lines' length:
    a block is read in one go and cut at its last newline outside quotes; the stream is moved back
    to the cut, so the next block starts there without copying the rest over)."""
    head = b""
    while (cut := _cut_after_lines(head, first_lines)) is None and (chunk := stream.read(SAMPLE_BYTES)):
        head += chunk
    cut = len(head) if cut is None else cut
    yield head[:cut]
    stream.seek(cut - len(head), io.SEEK_CUR)
    size = max(cut // max(first_lines, 1), 1) * batch_lines
    while data := stream.read(size):
        while (cut := _last_line_end(data)) is None and (
            more := stream.read(size)
        ):  # a huge quoted cell: read on
            data += more
        if cut is None or cut == len(data):
            yield data
            continue
        stream.seek(cut - len(data), io.SEEK_CUR)
        yield data[:cut]


def _last_line_end(data: bytes) -> int | None:
    """The offset just after the last newline of `data` that lies outside quotes (None: none does)."""
    cut = data.rfind(b"\n")
    if b'"' not in data:  # the common case: a memchr instead of counting quotes
        return cut + 1 if cut >= 0 else None
    while cut >= 0 and data.count(b'"', 0, cut) % 2:  # inside a quoted cell: an earlier newline
        cut = data.rfind(b"\n", 0, cut)
    return cut + 1 if cut >= 0 else None


def _cut_after_lines(buffer: bytes, lines: int) -> int | None:
    """The offset just after the `lines`-th newline outside quotes, or None when the buffer holds fewer."""
    if buffer.count(b"\n") < lines:
        return None
    cut = -1
    for _ in range(lines):
        cut = buffer.find(b"\n", cut + 1)
    while buffer.count(b'"', 0, cut) % 2:  # inside a quoted cell: the line goes on
        cut = buffer.find(b"\n", cut + 1)
        if cut < 0:
            return None
    return cut + 1


def csv_encoding(path: Path) -> str:
    """'utf-8-sig', 'utf-16', 'utf-8' or 'gb18030': the same decision `_utf8_body` makes for the
    whole file, made by streaming it (a sample that looks like UTF-8 is confirmed to the end)."""
    with open(path, "rb") as stream:
        sample = stream.read(SAMPLE_BYTES)
        if sample.startswith(b"\xef\xbb\xbf"):
            return "utf-8-sig"
        if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        if _sample_encoding(sample) != "utf-8":
            return "gb18030"
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(sample)
            while chunk := stream.read(READ_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"  # a later part is not UTF-8: it is GB18030 after all
    return "utf-8"


def _sample_encoding(sample: bytes) -> str:
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if len(sample) == SAMPLE_BYTES and exc.start >= len(sample) - 3:
            return "utf-8"  # the sample merely cut a character in two
    return "gb18030"


def _utf8_body(data: bytes, path: Path) -> tuple[bytes, str]:
    """The file as UTF-8 bytes, and the encoding it was in.

    Order: BOM (UTF-8/UTF-16) → UTF-8 → GB18030. UTF-8 is tried before GB18030 on purpose:
    UTF-8 Chinese text is often *also* valid GB18030 (every pair of high bytes is a GB18030
    character) and would silently become mojibake, while GBK/GB18030 text is practically
    never valid UTF-8. Only a sample is checked for UTF-8; polars validates the rest and a
    failure there falls back to GB18030 (see `_csv_frame`).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8"), "utf-16"
    if _sample_encoding(data[:SAMPLE_BYTES]) == "utf-8":
        return data, "utf-8"
    return _gb18030_to_utf8(data, path), "gb18030"


def _gb18030_to_utf8(data: bytes, path: Path, offset: int = 0) -> bytes:
    """GB18030 bytes (a whole file, or a block of whole lines starting at byte `offset` of the file) as UTF-8."""
    try:
        return gb18030.to_utf8(data)
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, _line_at(path, offset + exc.start)) from None


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line of the file that byte `offset` is on (counted only when an error is reported)."""
    line = 1
    with open(path, "rb") as stream:
        while offset > 0 and (chunk := stream.read(min(READ_BYTES, offset))):
            line, offset = line + chunk.count(b"\n"), offset - len(chunk)
    return line


def _encoding_error(path: Path, line: int) -> InputFileError:
    return InputFileError(
        "FILE_ENCODING",
        "文件编码无法识别：既不是 UTF-8，也不是 GB18030/GBK",
        where=f"{path.name} 第{line}行",
        hint="请用 Excel 或 WPS 打开后另存为 .xlsx，或另存为“CSV UTF-8”后重新上传",
    )


def _sniff_separator(sample: str) -> str:
    """The most frequent of , tab | ; in the first lines (comma when none appears)."""
    head = "\n".join(sample.splitlines()[:30])
    counts = {sep: head.count(sep) for sep in (",", "\t", "|", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _parse_csv(body: bytes, separator: str, min_width: int = 1) -> pl.DataFrame:
    """All fields as text. The column count is the widest line (title lines are narrower)."""
    width = max(min_width, _widest_line(body[:SAMPLE_BYTES], separator))
    try:
        return _read_csv_width(body, separator, width)
    except pl.exceptions.ComputeError as exc:
        if "more fields" not in str(exc):
            raise
    # A line further down is wider than the sample: count separators over the whole file.
    lines = pl.read_csv(
        body,
        has_header=False,
        separator="\x00",
        quote_char=None,
        infer_schema=False,
        schema={"line": pl.String},
        truncate_ragged_lines=True,
    )
    width = max(
        min_width,
        int(
            lines.select(pl.col("line").str.count_matches(re.escape(separator), literal=True).max()).item()
            or 0
        )
        + 1,
    )
    return _read_csv_width(body, separator, width)


def _widest_line(sample: bytes, separator: str) -> int:
    text = sample.decode("utf-8", errors="ignore")
    return max((line.count(separator) + 1 for line in text.splitlines()), default=1)


def _read_csv_width(body: bytes, separator: str, width: int) -> pl.DataFrame:
    schema = {f"column_{i + 1}": pl.String for i in range(width)}
    frame = pl.read_csv(
        body,
        has_header=False,
        separator=separator,
        infer_schema=False,
        schema=schema,
        missing_columns="insert",
        raise_if_empty=False,
    )
    return frame.rename({f"column_{i + 1}": f"c{i}" for i in range(width)})


# -- which cells were NUMBER cells -------------------------------------------------------

# A NUMBER cell whose value has 15+ digits: '<v>5.10723198001011E+17</v>', '<v>510723198001011000</v>'.
_BIG_VALUE = re.compile(rb"<v>(?:\d{15}|\d(?:\.\d+)?[Ee]\+?(?:1[4-9]|[2-9]\d)<)")
_CELL_TAG = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>')
_TEXT_TYPE = re.compile(rb'\bt="(?:s|str|inlineStr|b|e|d)"')
CHUNK = 16 << 20
BIG_NUMBER_SCHEMA = {"col": pl.Int32, "row": pl.Int32}


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
                    if cell is False:
                        return None
                    if cell:
                        found.append(cell)
                carry = buffer[cut:]
                if not chunk:
                    break
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return pl.DataFrame(found, schema=BIG_NUMBER_SCHEMA, orient="row")


def _number_cell_at(buffer: bytes, value_start: int) -> tuple[int, int] | None | bool:
    """The (col, row) of the cell whose <v> starts here; None if it is a text cell; False if unaddressed."""
    tag = _CELL_TAG.match(buffer, buffer.rfind(b"<c", 0, value_start))
    if tag is None:
        return False
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


def xls_number_rows(grid: Grid, columns: Iterable[int]) -> dict[int, pl.Series]:
    """Legacy .xls: for each column, the rows whose cell is a NUMBER cell (python-calamine typed values).

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


# -- merged cells ----------------------------------------------------------------------------

_MERGE = re.compile(rb'<mergeCell\s[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
MERGE_COLUMNS = ("first_row", "first_col", "last_row", "last_col")  # rows 1-based, columns 0-based


def merged_ranges(grid: Grid) -> pl.DataFrame:
    """Merged cell ranges of a sheet (empty for CSV). Only the first cell of a range holds the value."""
    if grid.fmt == "xlsx":
        ranges = _xlsx_merges(grid.path, grid.sheet or "")
    elif grid.fmt == "xls":
        sheet = python_calamine.CalamineWorkbook.from_path(str(grid.path)).get_sheet_by_name(grid.sheet or "")
        ranges = [(r1 + 1, c1, r2 + 1, c2) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []]
    else:
        ranges = []
    return pl.DataFrame(ranges, schema=dict.fromkeys(MERGE_COLUMNS, pl.Int32), orient="row")


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
