"""Ingest: inbox → archive → read → normalise → validate → load, one transaction per file."""

from ykt.ingest.night import check_file, ingest_inbox
from ykt.ingest.read.aliases import ColumnAliases, load_aliases
from ykt.ingest.types import FileResult

__all__ = ["ColumnAliases", "FileResult", "check_file", "ingest_inbox", "load_aliases"]
