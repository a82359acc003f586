"""Reading input files into tables of text: formats by suffix, header detection, titles, 合计 rows."""

from ykt.ingest.read.aliases import ColumnAliases, load_aliases, normalise_header
from ykt.ingest.read.formats import FORMATS, FileFormat, Grid, format_of, read_grids
from ykt.ingest.read.tables import (
    ColumnDecisionsChanged,
    count_data_rows,
    detect_kind,
    read_batches,
    read_tables,
)

__all__ = [
    "FORMATS",
    "ColumnAliases",
    "ColumnDecisionsChanged",
    "FileFormat",
    "Grid",
    "count_data_rows",
    "detect_kind",
    "format_of",
    "load_aliases",
    "normalise_header",
    "read_batches",
    "read_grids",
    "read_tables",
]
