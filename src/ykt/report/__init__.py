"""The night's report: a typed model read from the warehouse, the workbook's layout (reports/), and one
renderer per output."""

from ykt.report.health import Health, HealthReason
from ykt.report.layout import WorkbookLayout, default_layout, load_layout
from ykt.report.model import Report, build_report
from ykt.report.write import (
    OUTPUT_NAMES,
    night_folder,
    publish_night,
    published_folder,
    remove_stale_night_files,
    stale_night_files,
    write_atomically,
    write_outputs,
)

__all__ = [
    "OUTPUT_NAMES",
    "Health",
    "HealthReason",
    "Report",
    "WorkbookLayout",
    "build_report",
    "default_layout",
    "load_layout",
    "night_folder",
    "publish_night",
    "published_folder",
    "remove_stale_night_files",
    "write_atomically",
    "stale_night_files",
    "write_outputs",
]
