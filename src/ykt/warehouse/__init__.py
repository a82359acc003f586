"""The warehouse: one DuckDB file per county, the single source of truth, and the only code that runs SQL."""

from ykt.warehouse.connection import Lake, Sql, Warehouse
from ykt.warehouse.lock import lock_path, night_lock

__all__ = ["Lake", "Sql", "Warehouse", "lock_path", "night_lock"]
