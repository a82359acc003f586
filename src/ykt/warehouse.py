"""The one module that executes SQL.

Everything else builds SQL text (small pure functions) and hands it here with a
name; a failing statement is re-raised as RuleExecutionError carrying that name
and the SQL. Values from configuration are always bound as parameters.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from ykt.errors import RuleExecutionError

Params = Mapping[str, Any] | Sequence[Any] | None


def schema_sql() -> str:
    return resources.files("ykt").joinpath("sql/schema.sql").read_text(encoding="utf-8")


class Warehouse:
    """A DuckDB warehouse file (or ':memory:' in tests) with named, parameterised execution."""

    def __init__(self, path: str | Path = "ykt.duckdb"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(self.path)
        self._in_transaction = False
        self.execute("schema", schema_sql())

    # -- execution -----------------------------------------------------------------
    def execute(self, name: str, sql: str, params: Params = None) -> duckdb.DuckDBPyConnection:
        try:
            if params is None:
                return self.con.execute(sql)
            return self.con.execute(sql, params)
        except duckdb.Error as exc:
            raise RuleExecutionError(name, sql, exc) from exc

    def execute_many(self, name: str, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            self.con.executemany(sql, rows)
        except duckdb.Error as exc:
            raise RuleExecutionError(name, sql, exc) from exc

    def frame(self, name: str, sql: str, params: Params = None) -> pl.DataFrame:
        """Run a query and return a polars frame via Arrow (a relation avoids the DB-API copy)."""
        try:
            return self.con.sql(sql, params=params).pl()
        except duckdb.Error as exc:
            raise RuleExecutionError(name, sql, exc) from exc

    def rows(self, name: str, sql: str, params: Params = None) -> list[tuple]:
        return self.execute(name, sql, params).fetchall()

    def scalar(self, name: str, sql: str, params: Params = None) -> Any:
        # fetchall, not fetchone: duckdb 2 keeps a half-read result open and refuses the next statement
        rows = self.execute(name, sql, params).fetchall()
        return rows[0][0] if rows else None

    # -- bulk load -------------------------------------------------------------------
    def insert_frame(self, table: str, frame: pl.DataFrame) -> int:
        """Append a polars frame to a table by column name. Returns rows inserted."""
        if frame.height == 0:
            return 0
        view = f"_ykt_insert_{table}"
        # newest compat level hands DuckDB string views: measurably cheaper to insert than large strings
        self.con.register(view, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        try:
            # identifiers cannot be bound: the table and columns come from code (model.py), never from input
            cols = ", ".join(f'"{c}"' for c in frame.columns)
            self.execute(f"insert {table}", f"insert into {table} ({cols}) select {cols} from {view}")
        finally:
            self.con.unregister(view)
        return frame.height

    @contextmanager
    def transaction(self) -> Iterator["Warehouse"]:
        """All or nothing: a crash half-way leaves no partial rows."""
        if self._in_transaction:
            yield self
            return
        self.execute("begin", "begin transaction")
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self.con.execute("rollback")
            raise
        else:
            self.execute("commit", "commit")
        finally:
            self._in_transaction = False

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
