"""File formats by suffix: each format is one module whose format object carries its behaviour.

A new format is a `FileFormat` in its own module, added to `_REGISTERED`; nothing else names formats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

from ykt.config import Settings
from ykt.ingest.read.formats.base import MERGE_COLUMNS, FileFormat, Grid, unreadable
from ykt.ingest.read.formats.csv import CSV
from ykt.ingest.read.formats.limits import check_file_bytes, check_shape, cleaned
from ykt.ingest.read.formats.ods import ODS
from ykt.ingest.read.formats.xls import XLS, forget_typed_workbooks
from ykt.ingest.read.formats.xlsx import XLSX
from ykt.masking import printable

_REGISTERED: tuple[FileFormat, ...] = (XLSX, XLS, CSV, ODS)  # in the order a clerk is told of them

FORMATS: Mapping[str, FileFormat] = MappingProxyType(
    {suffix: fmt for fmt in _REGISTERED for suffix in fmt.suffixes}
)


def format_of(path: Path) -> FileFormat | None:
    """The format that reads this file (by its suffix, in any case), None when none does."""
    return FORMATS.get(Path(path).suffix.lower())


def read_grids(path: Path, find_big_numbers: bool = False, limits: Settings | None = None) -> list[Grid]:
    """Every visible sheet of a workbook, or the one table of a CSV/TXT file, read under `limits`
    (programs.yaml settings; see formats/limits.py) and cleaned of control characters.

    `find_big_numbers` also locates the NUMBER cells holding 15+ digit values of each sheet, where the
    format can find them while it reads (xlsx).
    """
    limits = limits or Settings()
    fmt = _checked_format(path, limits)
    return list(_within(fmt.read_grids(path, find_big_numbers, limits), limits))


def grid_parts(path: Path, batch_lines: int, first_lines: int, limits: Settings) -> Iterator[Grid]:
    """A file the format reads in parts (FileFormat.grid_parts), each part checked and cleaned as it comes."""
    fmt = _checked_format(path, limits)
    return _within(fmt.grid_parts(path, batch_lines, first_lines, limits), limits)


def _checked_format(path: Path, limits: Settings) -> FileFormat:
    """The file's format, once the file passed what can be judged before parsing it."""
    fmt = format_of(path)
    if fmt is None:
        raise unreadable(path, f"不支持的文件类型“{printable(path.suffix)}”", f"请上传 {_advertised()} 文件")
    check_file_bytes(path, limits)
    fmt.check_package(path, limits)
    return fmt


def _within(grids: Iterable[Grid], limits: Settings) -> Iterator[Grid]:
    """Each grid checked against the budgets (rows counted over the whole file), its text cleaned."""
    rows = 0
    for grid in grids:
        check_shape(grid.path, grid.sheet, grid.frame, grid.first_row, rows, limits)
        rows += grid.frame.height
        frame, dirty = cleaned(grid.frame, grid.first_row)
        yield dataclasses.replace(grid, frame=frame, cleaned_rows=dirty)


def _advertised() -> str:
    """'.xlsx、.xls、.csv、.txt 或 .ods'."""
    names = [suffix for fmt in _REGISTERED for suffix in fmt.advertised]
    return "、".join(names[:-1]) + " 或 " + names[-1]


__all__ = [
    "FORMATS",
    "MERGE_COLUMNS",
    "FileFormat",
    "Grid",
    "format_of",
    "grid_parts",
    "read_grids",
    "release_parsed",
]


def release_parsed() -> None:
    """Drop what a format kept of the file just read (python-calamine's typed view of an .xls or .ods)."""
    forget_typed_workbooks()
