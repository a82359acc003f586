"""Ingest: inbox → archive → read → normalise → validate → load, one transaction per file."""

from ykt.ingest.night import CheckedTable, check_file, ingest_inbox
from ykt.ingest.read import ColumnAliases, Grid, detect_kind, format_of, load_aliases, read_grids
from ykt.ingest.types import FileResult

__all__ = [
    "CheckedTable",
    "ColumnAliases",
    "FileResult",
    "Grid",
    "check_file",
    "detect_kind",
    "format_of",
    "ingest_inbox",
    "load_aliases",
    "read_grids",
]
