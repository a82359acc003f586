"""File formats by suffix: each format is one module whose format object carries its behaviour.

A new format is a `FileFormat` in its own module, added to `_REGISTERED`; nothing else names formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ykt.ingest.read.formats.base import MERGE_COLUMNS, FileFormat, Grid, unreadable
from ykt.ingest.read.formats.csv import CSV
from ykt.ingest.read.formats.ods import ODS
from ykt.ingest.read.formats.xls import XLS
from ykt.ingest.read.formats.xlsx import XLSX

_REGISTERED: tuple[FileFormat, ...] = (XLSX, XLS, CSV, ODS)  # in the order a clerk is told of them

FORMATS: Mapping[str, FileFormat] = MappingProxyType(
    {suffix: fmt for fmt in _REGISTERED for suffix in fmt.suffixes}
)


def format_of(path: Path) -> FileFormat | None:
    """The format that reads this file (by its suffix, in any case), None when none does."""
    return FORMATS.get(Path(path).suffix.lower())


def read_grids(path: Path, find_big_numbers: bool = False) -> list[Grid]:
    """Every visible sheet of a workbook, or the one table of a CSV/TXT file.

    `find_big_numbers` also locates the NUMBER cells holding 15+ digit values of each sheet, where the
    format can find them while it reads (xlsx).
    """
    fmt = format_of(path)
    if fmt is None:
        raise unreadable(path, f"不支持的文件类型“{path.suffix}”", f"请上传 {_advertised()} 文件")
    return fmt.read_grids(path, find_big_numbers)


def _advertised() -> str:
    """'.xlsx、.xls、.csv、.txt 或 .ods'."""
    names = [suffix for fmt in _REGISTERED for suffix in fmt.advertised]
    return "、".join(names[:-1]) + " 或 " + names[-1]


__all__ = ["FORMATS", "MERGE_COLUMNS", "FileFormat", "Grid", "format_of", "read_grids"]
