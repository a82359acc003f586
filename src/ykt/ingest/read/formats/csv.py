"""CSV / TXT: one table per file, read as text by polars (`infer_schema=False`), whole or in parts.

Encodings are tried UTF-8 (with or without BOM) first, then GB18030 (decoded by glibc's iconv, see
ykt.ingest.read.gb18030); UTF-16 is read whole. CSV has no cell types: whether an identity column
was exported from NUMBER cells is judged from the column's text as a whole.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar, TypeAlias

import numpy as np
import numpy.typing as npt
import polars as pl

from ykt.config import Settings
from ykt.errors import InputFileError
from ykt.ingest.read import gb18030
from ykt.ingest.read.formats.base import FileFormat, Grid, unreadable
from ykt.ingest.read.formats.limits import size_text, too_large
from ykt.ingest.read.numbers import excel_made, excel_zeros_text, numeric_stats

SAMPLE_BYTES = 1 << 16
_NON_BLANK_LINE = re.compile(rb"(?m)^[ \t\r]*[^\s]")


class CsvFormat(FileFormat):
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".txt")
    advertised: ClassVar[tuple[str, ...]] = (".csv", ".txt")
    reads_in_parts: ClassVar[bool] = True

    def read_grids(self, path: Path, find_big_numbers: bool, limits: Settings) -> list[Grid]:
        """The whole file, cut and parsed as the parts are (the same budgets, the same cells)."""
        frames = [grid.frame for grid in csv_grids(path, WHOLE_BATCH_LINES, SNIFF_LINES, limits)]
        return [Grid(path, None, self, frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal"))]

    def grid_parts(self, path: Path, batch_lines: int, first_lines: int, limits: Settings) -> Iterator[Grid]:
        return csv_grids(path, batch_lines, first_lines, limits)

    def whole_file_error(self, path: Path) -> InputFileError | None:
        return csv_encoding_error(path)

    def number_flags(
        self, frame: pl.DataFrame, grid: Grid, positions: dict[str, int], decisions: dict[str, bool] | None
    ) -> dict[str, pl.Expr]:
        """Without cell types the pattern is trusted only when the column as a whole went through Excel
        (see excel_made): decided on this frame, or given for the whole file (`decisions`)."""
        if decisions is not None:
            return {r: excel_zeros_text(r) if decisions[r] else pl.lit(False) for r in positions}
        return {
            r: excel_zeros_text(r) if excel_made(numeric_stats(frame, r, cheap=True)) else pl.lit(False)
            for r in positions
        }

    def raw_line_count(self, path: Path) -> int:
        """Non-blank lines of a text file that could not be decoded."""
        try:
            return len(_NON_BLANK_LINE.findall(path.read_bytes()))
        except OSError:
            return 0


CSV = CsvFormat()


def _csv_frame(path: Path, max_columns: int) -> pl.DataFrame:
    """A UTF-16 file (rare and small), read whole."""
    data = path.read_bytes()
    body, encoding = _utf8_body(data, path)
    separator = _sniff_separator(body[:SAMPLE_BYTES].decode("utf-8", errors="ignore"))
    return _parse_csv_part(body, separator, 1, path, max_columns)


# -- CSV / TXT in parts (bounded memory) ----------------------------------------------------

READ_BYTES = 4 << 20  # csv_encoding's reads
BLOCK_BYTES = 32 << 20  # the most a part's block reads at once (whatever the first lines' length)
WHOLE_BATCH_LINES = 250_000  # read_grids cuts the file as the night's parts are cut
SNIFF_LINES = 30  # the first block: the lines the separator is sniffed from


def csv_grids(path: Path, batch_lines: int, first_lines: int, limits: Settings) -> Iterator[Grid]:
    """A CSV/TXT file as consecutive Grids of `batch_lines` lines (the first of at least
    `first_lines`), so a big file never sits whole in memory; the same cells as `CsvFormat.read_grids`.

    Blocks are cut after a newline byte outside quotes: GB18030 and UTF-8 never use byte
    0x0A or '"' inside a multi-byte character, so a cut never splits a character, and a
    quoted cell holding a newline stays whole (its line count is what the quotes allow).
    """
    encoding = csv_encoding(path)
    if encoding == "utf-16":  # rare and small: its newlines are two bytes, read it whole
        yield Grid(path, None, CSV, _csv_frame(path, limits.max_columns))
        return
    with open(path, "rb") as stream:
        if encoding == "utf-8-sig":
            stream.read(3)
        separator, width, first_row, offset = None, 1, 1, stream.tell()
        cutter = _Cutter(stream, limits.max_line_bytes, path)
        for block in cutter.blocks(batch_lines, max(first_lines, 1)):
            body = _gb18030_to_utf8(block, path, offset) if encoding == "gb18030" else block
            if separator is None:
                separator = _sniff_separator(body[:SAMPLE_BYTES].decode("utf-8", errors="ignore"))
            frame = _parse_csv_part(
                body, separator, width, path, limits.max_columns, cutter.open_line or cutter.block_line
            )
            width = max(width, frame.width)
            yield Grid(path, None, CSV, frame, first_row=first_row)
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


def _parse_csv_part(
    body: bytes, separator: str, width: int, path: Path, max_columns: int, line: int = 1
) -> pl.DataFrame:
    try:
        return _parse_csv(body, separator, width, max_columns)
    except _TooWide as wide:
        raise too_large(path, f"第{line}行起有一行分成 {wide.width} 列，超过 {max_columns} 列上限") from None
    except pl.exceptions.ComputeError:
        raise _unparseable_csv(path, line) from None


def _unparseable_csv(path: Path, line: int) -> InputFileError:
    """Named by file and line only: polars' own message quotes the raw rows (IDs in full)."""
    return unreadable(
        path,
        f"CSV 文件第{line}行起无法解析（引号不成对或分隔符不一致）",
        '请检查这些行中的英文引号 " 是否成对，或用 Excel 打开后另存为 .xlsx 再上传',
    )


_Ends: TypeAlias = "npt.NDArray[np.intp]"  # offsets just after each record's newline, ascending


class _Cutter:
    """Cuts a byte stream into blocks of whole CSV records (a record ends at a newline outside quotes)
    in linear time whatever the quoting: each block's record ends are found by one vectorised pass
    (quote parity as a running sum), the read size doubles while a cut is missing, and a record may
    not grow past `max_line` bytes (FILE_TOO_LARGE naming its first line: a stray quote makes the rest
    of the file one record)."""

    def __init__(self, stream: BinaryIO, max_line: int, path: Path):
        self.stream, self.max_line, self.path = stream, max_line, path
        self.pending, self.line = b"", 1  # bytes read but not yet cut; the physical line they start on
        self.block_line = 1  # the physical line the last block starts on, for error messages
        self.open_line: int | None = None  # the line where a quote left open at the end of the file starts

    def blocks(self, batch_lines: int, first_lines: int) -> Iterator[bytes]:
        """The first block holds `first_lines` records (or all there is), the others about `batch_lines`
        (their byte size from the first lines' length, at most BLOCK_BYTES)."""

        def first(ends: _Ends, size: int) -> int | None:
            return int(ends[first_lines - 1]) if len(ends) >= first_lines else None

        def later(ends: _Ends, size: int) -> int | None:
            within = int(np.searchsorted(ends, size, side="right"))  # the last record end within size
            return int(ends[within - 1]) if within else int(ends[0]) if len(ends) else None

        head = self._block(first, SAMPLE_BYTES)
        yield head
        size = min(max(len(head) // first_lines, 1) * batch_lines, BLOCK_BYTES)
        while block := self._block(later, size):
            yield block

    def _block(self, choose: Callable[[_Ends, int], int | None], size: int) -> bytes:
        data, eof = self.pending, False
        while True:
            if len(data) < size and not eof:
                chunk = self.stream.read(size - len(data))
                data, eof = data + chunk, not chunk
            ends = _record_ends(data)
            self._check(data, ends)
            cut = choose(ends, size)
            if cut is None and eof:
                cut = len(data)
                if data.count(b'"') % 2:  # the block starts at a record boundary: an odd count never closed
                    self.open_line = self.line + data.count(b"\n", 0, int(ends[-1]) if len(ends) else 0)
            if cut is not None:
                block, self.pending = data[:cut], data[cut:]
                self.block_line = self.line
                self.line += block.count(b"\n")
                return block
            size *= 2  # no cut yet: read twice as much (so every byte is scanned a bounded number of times)

    def _check(self, data: bytes, ends: _Ends) -> None:
        """No record (nor the unfinished one at the end) longer than `max_line` bytes."""
        bounds = np.concatenate(([0], ends, [len(data)]))
        lengths = np.diff(bounds)
        if not len(lengths) or int(lengths.max()) <= self.max_line:
            return
        start = int(bounds[int(lengths.argmax())])
        line = self.line + data.count(b"\n", 0, start)
        raise too_large(
            self.path,
            f"第{line}行起的一行超过 {size_text(self.max_line)} 上限（CSV 中引号内的换行算同一行）",
            '常见原因是某个单元格里有一个不成对的英文引号 "，使后面各行都被读进同一格；'
            "请删去该引号，或用 Excel 打开后另存为 .xlsx 再上传",
        )


def _record_ends(data: bytes) -> _Ends:
    """Offsets just after each newline outside quotes: where the count of quotes before it is even.
    The quotes are counted by position (a binary search per newline), not by a running sum over every
    byte, and not at all in a block without any (memchr finds none): 6x less CPU per block."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == 0x0A)
    if data.find(b'"') >= 0:
        quotes = np.flatnonzero(raw == 0x22)
        newlines = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    return newlines + 1


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
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


class _TooWide(Exception):
    def __init__(self, width: int):
        super().__init__(width)
        self.width = width


def _parse_csv(body: bytes, separator: str, min_width: int = 1, max_width: int = 1_000) -> pl.DataFrame:
    """All fields as text. The column count is the widest line (title lines are narrower)."""
    width = max(min_width, _widest_line(body[:SAMPLE_BYTES], separator))
    if width > max_width:
        raise _TooWide(width)
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
    counted = lines.select(pl.col("line").str.count_matches(re.escape(separator), literal=True).max()).item()
    width = max(min_width, int(counted or 0) + 1)
    if width > max_width:
        raise _TooWide(width)
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
