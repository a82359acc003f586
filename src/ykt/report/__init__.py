"""The night's report: a typed model read from the warehouse, and one renderer per output."""

from ykt.report.model import Report, build_report
from ykt.report.write import OUTPUT_NAMES, write_outputs

__all__ = ["OUTPUT_NAMES", "Report", "build_report", "write_outputs"]
