"""The one module that executes SQL.

Everything else builds SQL text (small pure functions) and hands it here with a
name; a failing statement is re-raised as RuleExecutionError carrying that name
and the SQL. Values from configuration are always bound as parameters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from ykt.errors import RuleExecutionError, WarehouseError

Params = Mapping[str, Any] | Sequence[Any] | None


def schema_sql() -> str:
    return resources.files("ykt.warehouse").joinpath("schema.sql").read_text(encoding="utf-8")


# Row hashes: 64-bit hashes of the texts the nightly reconciliation joins, groups and compares
# (its key, the person, the amount with the expected account holder, the card), computed by DuckDB
# once when a row is loaded instead of over the whole warehouse every night. The rules read them
# (rules/_successful_payments.sql, rules/_current_roster.sql) next to hashes they compute on the
# spot, so all must come from the same hash function: `_HASH_PROBE` records which one computed
# the stored values, and a warehouse whose probe differs (another DuckDB version) or predates
# these columns is re-hashed when it is opened. Values are cast to their stored types so a
# loaded frame hashes exactly as the table's own rows do.
ROW_HASHES: dict[str, tuple[tuple[str, str], ...]] = {
    "entitlements": (
        ("key_hash", "hash(id_number::varchar, program_code::varchar, period::varchar)"),
        ("id_hash", "hash(id_number::varchar)"),
        (
            "ordinary_fingerprint",
            "hash(amount_due::decimal(18, 2), coalesce(payee_name::varchar, head_name::varchar, name::varchar))",
        ),
        ("card_hash", "if(card_number is null, null, hash(card_number::varchar))"),
    ),
    "payments": (
        ("key_hash", "hash(id_number::varchar, program_code::varchar, period::varchar)"),
        ("person_program", "hash(id_number::varchar, program_code::varchar)"),
        ("id_hash", "hash(id_number::varchar)"),
        ("program_hash", "hash(program_code::varchar)"),
        ("tier_hash", "hash(program_code::varchar, period::varchar)"),
        (
            "ordinary_fingerprint",
            "hash(amount::decimal(18, 2), coalesce(payee_name::varchar, name::varchar))",
        ),
        ("card_hash", "if(card_number is null, null, hash(card_number::varchar))"),
    ),
}
_HASH_PROBE = "select hash('一卡通 X', 1350.00::decimal(18, 2), null::varchar)::varchar"


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


def opening_error(path: str, exc: Exception) -> WarehouseError:
    """What a person can do about a warehouse DuckDB would not open, in Chinese, with the path."""
    text = str(exc)
    if "Could not set lock" in text:
        holder = _LOCK_HOLDER.search(text)
        who = f"进程 {holder[1]}" if holder else "另一个进程"
        return WarehouseError(
            f"数据仓库正被{who} 使用（可能另一个核对任务正在运行）",
            where=path,
            hint="等该任务结束后再运行；若确认没有其他任务在运行，请检查该进程",
        )
    if "not a valid DuckDB database file" in text:
        return WarehouseError(
            "数据仓库文件已损坏，或不是 ykt-recon 的数据仓库",
            where=path,
            hint="从备份恢复该文件，或用 --db 指定正确的数据仓库；不要删除它，其中有全部历史案件",
        )
    if any(word in text for word in ("Permission denied", "Read-only", "Operation not permitted")):
        return WarehouseError(
            "无法写入数据仓库（权限不足，或文件、磁盘为只读）",
            where=path,
            hint="检查该文件及其目录的权限与磁盘状态",
        )
    return WarehouseError(
        f"无法打开数据仓库：{text.splitlines()[0]}", where=path, hint="检查路径、权限与磁盘空间"
    )


class Sql:
    """Named, parameterised execution on a DuckDB connection: a failing statement is re-raised as
    RuleExecutionError with its name and SQL."""

    con: duckdb.DuckDBPyConnection

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
            frame: pl.DataFrame = self.con.sql(sql, params=params).pl()
            return frame
        except duckdb.Error as exc:
            raise RuleExecutionError(name, sql, exc) from exc

    def rows(self, name: str, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.execute(name, sql, params).fetchall()

    def scalar(self, name: str, sql: str, params: Params = None) -> Any:
        # fetchall, not fetchone: duckdb 2 keeps a half-read result open and refuses the next statement
        rows = self.execute(name, sql, params).fetchall()
        return rows[0][0] if rows else None


class Warehouse(Sql):
    """A DuckDB warehouse file (or ':memory:' in tests) with named, parameterised execution."""

    def __init__(
        self, path: str | Path = "ykt.duckdb", *, read_only: bool = False, memory_mb: int | None = None
    ):
        """`read_only`: for readers beside the nights (the web desk): DuckDB's shared read lock, nothing
        created or migrated (the schema is the last night's); TEMP views still work.
        `memory_mb`: DuckDB's memory limit (it spills to `<path>.tmp` beyond); None: DuckDB's default."""
        self.path = str(path)
        self._saved_umask: int | None = None
        if self.path != ":memory:" and not read_only:
            self._owner_only(Path(self.path))
        config: dict[str, str | bool | int | float | list[str]] = (
            {} if memory_mb is None else {"memory_limit": f"{memory_mb}MiB"}
        )
        try:
            self.con = duckdb.connect(self.path, read_only=read_only, config=config)
        except duckdb.Error as exc:
            self._restore_umask()
            raise opening_error(self.path, exc) from None
        self._in_transaction = False
        self._table_columns: dict[str, tuple[str, ...]] = {}
        if not read_only:
            self.execute("schema", schema_sql())
            self._ensure_row_hashes()

    # -- row hashes ------------------------------------------------------------------
    def _ensure_row_hashes(self) -> None:
        """Record the hash function of a new warehouse; re-hash every row of one whose stored
        hashes came from another (or from none: a warehouse older than these columns)."""
        probe = self.scalar("row hashes: probe", _HASH_PROBE)
        stored = self.scalar(
            "row hashes: stored probe", "select value from warehouse_meta where key = 'row_hash_probe'"
        )
        if stored == probe:
            return
        with self.transaction():
            for table, columns in ROW_HASHES.items():
                # names and expressions are code constants (ROW_HASHES), never input
                for column, _ in columns:
                    self.execute(
                        f"row hashes: {table}.{column}",
                        f"alter table {table} add column if not exists {column} ubigint",
                    )
                assignments = ", ".join(f"{column} = {expression}" for column, expression in columns)
                self.execute(f"row hashes: {table}", f"update {table} set {assignments}")
            self.execute(
                "row hashes: record probe",
                "insert or replace into warehouse_meta values ('row_hash_probe', $probe)",
                {"probe": probe},
            )

    # -- bulk load -------------------------------------------------------------------
    def insert_frame(self, table: str, frame: pl.DataFrame) -> int:
        """Append a polars frame to a table by column name, with the table's row hashes. Returns rows inserted."""
        if frame.height == 0:
            return 0
        view = f"_ykt_insert_{table}"
        # newest compat level hands DuckDB string views: measurably cheaper to insert than large strings
        self.con.register(view, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        try:
            # identifiers cannot be bound: the table and columns come from code (model.py), never from input;
            # the row-hash expressions are code constants (ROW_HASHES)
            derived = ROW_HASHES.get(table, ())
            # a column the frame lacks is null in the table: the row hashes read it as such
            given = {*frame.columns, *(column for column, _ in derived)}
            absent = (
                "".join(f', null as "{c}"' for c in self._columns(table) if c not in given) if derived else ""
            )
            targets = ", ".join([f'"{c}"' for c in frame.columns] + [column for column, _ in derived])
            values = ", ".join([f'"{c}"' for c in frame.columns] + [expression for _, expression in derived])
            self.execute(
                f"insert {table}",
                f"insert into {table} ({targets}) select {values} from (select *{absent} from {view})",
            )
        finally:
            self.con.unregister(view)
        return frame.height

    def _columns(self, table: str) -> tuple[str, ...]:
        """A warehouse table's columns (read once per connection)."""
        if table not in self._table_columns:
            self._table_columns[table] = tuple(
                r[0]
                for r in self.rows(
                    f"columns of {table}",
                    """
                select column_name from duckdb_columns()
                where database_name = current_database() and schema_name = 'main' and table_name = $t
                order by column_index""",
                    {"t": table},
                )
            )
        return self._table_columns[table]

    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
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

    def _owner_only(self, path: Path) -> None:
        """The warehouse holds full ID and card numbers: it, its WAL and whatever the process writes while
        it is open (the archive, the night's outputs) are created readable by their owner only."""
        self._saved_umask = os.umask(0o077)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():  # a warehouse created before files were owner-only
            path.chmod(0o600)

    def close(self) -> None:
        self.con.close()
        self._restore_umask()

    def _restore_umask(self) -> None:
        if self._saved_umask is not None:
            os.umask(self._saved_umask)
            self._saved_umask = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Lake(Sql):
    """An in-memory DuckDB connection over Parquet files (the province layer's county exports): no warehouse
    schema, no file of its own; the views over the files are made by whoever opens it."""

    def __init__(self, memory_limit: str | None = None):
        config: dict[str, str | bool | int | float | list[str]] = (
            {"memory_limit": memory_limit} if memory_limit else {}
        )
        try:
            self.con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:  # a bad memory_limit text
            raise opening_error(":memory:", exc) from None

    def parquet_view(self, name: str, paths: Sequence[str], text_columns: Sequence[str] = ()) -> None:
        """A view `name` over Hive-partitioned Parquet files, replacing a table of that name; the partition
        columns in `text_columns` are read as text (DuckDB guesses their types from the folder names). A
        view's SQL cannot hold parameters, so the files are given to DuckDB's reader, never written into SQL."""
        if not _IDENTIFIER.fullmatch(name) or not all(_IDENTIFIER.fullmatch(c) for c in text_columns):
            raise ValueError(f"not a plain name: {name!r} {text_columns!r}")
        try:
            self.con.execute(f"drop table if exists {name}")
            relation = self.con.read_parquet(list(paths), hive_partitioning=True)
            if text_columns:
                relation = relation.project(
                    "* replace (" + ", ".join(f"{c}::varchar as {c}" for c in text_columns) + ")"
                )
            relation.create_view(name, replace=True)
        except duckdb.Error as exc:
            raise RuleExecutionError(f"parquet view {name}", "read_parquet(…)", exc) from exc

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """A polars frame as a view (configuration the SQL joins, e.g. the programs)."""
        self.con.register(name, frame.to_arrow())

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
