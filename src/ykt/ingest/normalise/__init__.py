"""Normalising a reader's text table into typed rows and rejects (polars expressions, then validation)."""

from ykt.ingest.normalise.fields import normalise

__all__ = ["normalise"]
