"""Ingest: inbox → archive → read → normalise → validate → load, one transaction per file."""

from ykt.ingest.archive import archive_file, archived_path, content_hash, remove_partials
from ykt.ingest.night import CheckedTable, check_file, check_inbox_space, ingest_inbox
from ykt.ingest.read import ColumnAliases, Grid, detect_kind, format_of, load_aliases, read_grids
from ykt.ingest.read.formats.limits import check_zip_directory
from ykt.ingest.snapshot import remove_snapshots
from ykt.ingest.types import FileResult

__all__ = [
    "CheckedTable",
    "ColumnAliases",
    "FileResult",
    "archive_file",
    "archived_path",
    "Grid",
    "check_file",
    "check_inbox_space",
    "check_zip_directory",
    "content_hash",
    "detect_kind",
    "format_of",
    "ingest_inbox",
    "load_aliases",
    "read_grids",
    "remove_partials",
    "remove_snapshots",
]
