"""`ykt check`: validate uploads without loading them, and write annotated copies a clerk can fix."""

from ykt.check.annotate import CheckResult, check_files

__all__ = ["CheckResult", "check_files"]
