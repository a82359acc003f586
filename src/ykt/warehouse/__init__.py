"""The warehouse: one DuckDB file per county, the single source of truth, and the only code that runs SQL."""

from ykt.warehouse.connection import Warehouse

__all__ = ["Warehouse"]
