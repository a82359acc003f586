"""Ingest: inbox → archive → read → normalise → validate → load, one transaction per file."""

from ykt.ingest.archive import remove_partials
from ykt.ingest.night import CheckedTable, check_file, check_inbox_space, ingest_inbox
from ykt.ingest.read import ColumnAliases, Grid, detect_kind, format_of, load_aliases, read_grids
from ykt.ingest.snapshot import remove_snapshots
from ykt.ingest.types import FileResult

__all__ = [
    "CheckedTable",
    "ColumnAliases",
    "FileResult",
    "Grid",
    "check_file",
    "check_inbox_space",
    "detect_kind",
    "format_of",
    "ingest_inbox",
    "load_aliases",
    "read_grids",
    "remove_partials",
    "remove_snapshots",
]
