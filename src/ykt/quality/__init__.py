"""Batch data quality of what a night loaded (Great Expectations), with offline Chinese Data Docs."""

from ykt.quality.suite import QualitySummary, check_quality

__all__ = ["QualitySummary", "check_quality"]
