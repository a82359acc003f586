"""Batch data quality of what a night loaded (Great Expectations on its statistics), with offline Chinese Data Docs."""

from ykt.quality.model import QualitySummary
from ykt.quality.suite import check_quality, preload

__all__ = ["QualitySummary", "check_quality", "preload"]
