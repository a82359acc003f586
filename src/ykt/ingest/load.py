"""Loading one file in ONE transaction: its rows (part by part as they come), rejects, in-file duplicate
keys, the supersession of earlier rosters, and the `files` and `run_files` rows; and the records of
files not loaded (duplicates, files rejected as a whole, uploads outside the kind folders).

A crash half-way leaves nothing of the file; the next run picks it up again. A file rejected as a
whole is recorded with every data row counted as rejected. It is not a "duplicate" next night: the
same bytes are tried again (a configuration fix, e.g. a new program alias, may now let it load).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from ykt.config import Settings
from ykt.errors import InputFileError
from ykt.ingest.alarm import layout_alarm
from ykt.ingest.read import count_data_rows
from ykt.ingest.snapshot import Snapshot
from ykt.ingest.stream import FileItem, Unreadable
from ykt.ingest.types import FileResult, Normalised, RawTable, TableEnd
from ykt.ingest.validate import NO_REJECTS, make_rejects
from ykt.kinds import kind_spec
from ykt.masking import printable
from ykt.reasons import FILE_REASONS
from ykt.warehouse import Warehouse

log = logging.getLogger("ykt.ingest")
# A file this large says how far it got after each part (the CLI's progress line shows it).
PROGRESS_ROWS = 100_000


@dataclass(frozen=True)
class Receipt:
    """Who/what/when of one file being ingested (the `files` row's identity columns)."""

    path: Path
    kind: str
    file_hash: str
    archived: Path
    received_at: dt.datetime
    uploaded_by: str
    run_id: str
    source: Path  # the night's private copy the file is read from (ykt.ingest.snapshot); `path` names it

    @property
    def name(self) -> str:
        return printable(self.path.name)


# -- loading (one transaction) -------------------------------------------------------------------


class _Loaded:
    """What the loader keeps of a file's parts once their rows are inserted: per table its rejects,
    written total and end; the keys of typed rows pandera rejected; the programs and periods seen."""

    def __init__(self) -> None:
        self.rows_read = 0
        self.rejects: dict[str | None, list[pl.DataFrame]] = {}
        self.details: dict[str | None, Decimal | None] = {}
        self.ends: list[TableEnd] = []
        self.typed_keys: list[pl.DataFrame] = []
        self.values: dict[str, set[str]] = {"program_code": set(), "period": set()}
        self.inferences: dict[str, None] = {}  # the normaliser's, in order, once each

    def add(self, table: RawTable, result: Normalised) -> None:
        self.rows_read += result.rows_read
        self.inferences.update(dict.fromkeys(result.inferences))
        self.rejects.setdefault(table.sheet, []).append(result.rejects)
        if result.detail_total is not None:
            self.details[table.sheet] = (self.details.get(table.sheet) or Decimal(0)) + result.detail_total
        else:
            self.details.setdefault(table.sheet, None)
        if result.typed_keys is not None and result.typed_keys.height:
            self.typed_keys.append(result.typed_keys)
        for column, seen in self.values.items():
            if column in result.loaded.columns:
                seen.update(result.loaded.get_column(column).drop_nulls().unique().to_list())

    @property
    def tables(self) -> list[RawTable]:
        return [end.table for end in self.ends]

    @property
    def all_inferences(self) -> tuple[str, ...]:
        """What reading (each table) and normalising inferred, each sentence once."""
        return tuple(dict.fromkeys([*(i for t in self.tables for i in t.inferences), *self.inferences]))

    def check_layout(self, settings: Settings) -> None:
        """Raise FILE_LAYOUT_SUSPECT when most rows failed alike (ykt.ingest.alarm)."""
        parts = [r for sheet in self.rejects.values() for r in sheet]
        if parts:
            alarm = layout_alarm(self.tables, pl.concat(parts), self.rows_read, settings)
            if alarm is not None:
                raise alarm

    def single_value(self, column: str) -> str | None:
        """The file's program / period when all its rows share one (for run.json and supersession logs)."""
        seen = self.values[column]
        return next(iter(seen)) if len(seen) == 1 else None


def load_file(wh: Warehouse, receipt: Receipt, parts: Iterable[FileItem], settings: Settings) -> FileResult:
    """Everything of one file in ONE transaction: rows (inserted part by part as they come), rejects,
    in-file duplicate keys, supersession, files and run_files rows. An error item (the file cannot be
    used after all) or the layout alarm is raised inside the transaction: nothing of the file stays."""
    with wh.transaction():
        _forget_rejected_attempt(wh, receipt.file_hash)
        got = _insert_parts(wh, receipt, parts)
        got.check_layout(settings)
        rejects = _table_rejects(got, _key_duplicates(wh, receipt, got))
        if receipt.kind == "roster" and len(got.ends) > 1:
            rejects = pl.concat([rejects, _cross_sheet_duplicates(wh, receipt, got.tables)])
        if receipt.kind == "roster":
            _supersede(wh, receipt)
            rejects = pl.concat([rejects, _reject_existing_entitlements(wh, receipt, got.tables)])
        loaded = _count_loaded(wh, receipt)
        rows_rejected = rejects.select(pl.struct("sheet", "row").n_unique()).item() if rejects.height else 0
        if loaded + rows_rejected != got.rows_read:
            raise AssertionError(
                f"{receipt.name}: read {got.rows_read}, loaded {loaded}, rejected {rows_rejected}"
            )
        _insert_rejects(wh, receipt, rejects)
        totals = _Totals.of(got.ends, [got.details.get(end.table.sheet) for end in got.ends])
        result = FileResult(
            receipt.name,
            receipt.kind,
            receipt.file_hash,
            "loaded",
            got.rows_read,
            loaded,
            rows_rejected,
            totals.reason,
            totals.warnings,
            inferences=got.all_inferences,
        )
        _insert_file_row(
            wh, receipt, result, totals, got.single_value("program_code"), got.single_value("period")
        )
        _insert_run_file(wh, receipt.run_id, result)
    return result


def _insert_parts(wh: Warehouse, receipt: Receipt, parts: Iterable[FileItem]) -> _Loaded:
    got = _Loaded()
    for item in parts:
        if isinstance(item, Unreadable):
            raise item.error
        if isinstance(item, TableEnd):
            got.ends.append(item)
            continue
        _insert_rows(wh, receipt.kind, _with_hash(item.result.loaded, receipt.file_hash))
        got.add(item.table, item.result)
        if got.rows_read >= PROGRESS_ROWS:
            log.info("读取 %s：已读 %s 行", printable(receipt.name), f"{got.rows_read:,}")
    return got


def _table_rejects(got: _Loaded, duplicates: pl.DataFrame) -> pl.DataFrame:
    """Each table's rejects, its in-file duplicate keys among them, in row order (table by table)."""
    return (
        pl.concat(
            [
                pl.concat(
                    [
                        *got.rejects.get(end.table.sheet, []),
                        duplicates.filter(pl.col("sheet").eq_missing(pl.lit(end.table.sheet, pl.String))),
                    ]
                ).sort("row", "reason_code")
                for end in got.ends
            ]
        )
        if got.ends
        else make_rejects(NO_REJECTS, None)
    )


def _forget_rejected_attempt(wh: Warehouse, file_hash: str) -> None:
    """These bytes were only ever rejected before (a loaded file is a duplicate): that attempt's record
    and reject lines give way to this one, e.g. after the clerk renamed the file to name its program."""
    for table in ("files", "rejects"):
        wh.execute(
            f"forget rejected attempt: {table}", f"delete from {table} where file_hash = $h", {"h": file_hash}
        )


def _with_hash(rows: pl.DataFrame, file_hash: str) -> pl.DataFrame:
    return rows.with_columns(pl.lit(file_hash, pl.String).alias("file_hash"))


def _key_duplicates(wh: Warehouse, receipt: Receipt, got: _Loaded) -> pl.DataFrame:
    """In-file key uniqueness (pandera's DUPLICATE_ROW, checked across the parts of each table):
    a typed row whose key an earlier typed row of its sheet holds is rejected (and removed if it
    was loaded). Typed rows are the loaded ones plus those pandera rejected for another reason."""
    keys = kind_spec(receipt.kind).key_columns
    if not keys:
        return make_rejects(NO_REJECTS, None)
    table, cols = kind_spec(receipt.kind).table, ", ".join(keys)
    sheet = (
        "sheet" if "sheet" in kind_spec(receipt.kind).loaded_columns else "null::varchar as sheet"
    )  # deaths etc. have one table
    typed = f"select {sheet}, source_row, {cols} from {table} where file_hash = $h"
    if got.typed_keys:
        wh.execute(
            "typed keys table",
            f"create or replace temp table _ykt_typed_keys as {typed} limit 0",
            {"h": receipt.file_hash},
        )
        wh.insert_frame("_ykt_typed_keys", pl.concat(got.typed_keys))
        typed += f" union all select sheet, source_row, {cols} from _ykt_typed_keys"
    same_key = " and ".join(["t.sheet is not distinct from r.sheet", *(f"t.{k} = r.{k}" for k in keys)])
    # Grouping millions of text keys is the cost: they are grouped by a 64-bit hash first, and only
    # the rows of a repeated hash are compared as text (equal keys always share a hash, so nothing
    # is missed; a shared hash of two different keys only adds rows to compare).
    later = wh.frame(
        "in-file duplicate keys",
        f"""
        with typed as ({typed}),
        repeated_hashes as (select hash(sheet, {cols}) as key_hash from typed group by key_hash having count(*) > 1),
        candidates as (select * from typed where hash(sheet, {cols}) in (select key_hash from repeated_hashes)),
        repeated as (select sheet, {cols} from candidates group by all having count(*) > 1)
        select t.sheet, t.source_row, t.id_number from candidates t join repeated r on {same_key}
        qualify row_number() over (partition by t.sheet, {", ".join(f"t.{k}" for k in keys)} order by t.source_row) > 1
    """,
        {"h": receipt.file_hash},
    )
    if got.typed_keys:
        wh.execute("drop typed keys table", "drop table _ykt_typed_keys")
    _delete_rows(wh, receipt, later)
    return _id_rejects(later, got.tables, "DUPLICATE_ROW")


def _delete_rows(wh: Warehouse, receipt: Receipt, rows: pl.DataFrame) -> None:
    """Remove these (sheet, source_row) rows of the file from its table (rows not loaded are not there)."""
    table = kind_spec(receipt.kind).table
    sheet_test = (
        "sheet is not distinct from $sheet"
        if "sheet" in kind_spec(receipt.kind).loaded_columns
        else "$sheet is null"
    )
    for (sheet,), part in rows.group_by("sheet"):
        wh.execute(
            f"remove duplicate rows {table}",
            f"""
            delete from {table} where file_hash = $h and {sheet_test} and list_contains($rows, source_row)
        """,
            {"h": receipt.file_hash, "sheet": sheet, "rows": part["source_row"].to_list()},
        )


def _cross_sheet_duplicates(wh: Warehouse, receipt: Receipt, tables: list[RawTable]) -> pl.DataFrame:
    """One roster file with the same (id, program, period) on two sheets: the later sheet's
    row is a DUPLICATE_ROW (within a sheet, _key_duplicates already caught it)."""
    later = wh.frame(
        "cross-sheet duplicate keys",
        """
        with rows as (select sheet, source_row, id_number, program_code, period from entitlements where file_hash = $h),
        repeated as (select id_number, program_code, period from rows group by all having count(*) > 1)
        select sheet, source_row, id_number from rows semi join repeated using (id_number, program_code, period)
        qualify row_number() over (partition by id_number, program_code, period
                                   order by list_position($sheets, sheet), source_row) > 1
    """,
        {"h": receipt.file_hash, "sheets": [t.sheet for t in tables]},
    )
    _delete_rows(wh, receipt, later)
    return _id_rejects(later, tables, "DUPLICATE_ROW")


def _insert_rows(wh: Warehouse, kind: str, rows: pl.DataFrame) -> None:
    wh.insert_frame(kind_spec(kind).table, rows)


# The (program, period, township) triples of the new file ($h), as a small table: testing every
# current row against it is much cheaper than against the new file's rows themselves.
_NEW_TRIPLES = "(select distinct program_code, period, township from entitlements where file_hash = $h)"
_SAME_TRIPLE = f"""
    exists (select 1 from {_NEW_TRIPLES} n
            where n.program_code = e.program_code and n.period = e.period and n.township is not distinct from e.township)
"""


def _supersede(wh: Warehouse, receipt: Receipt) -> None:
    """A roster for (program, period, township) replaces the current rows of earlier files
    with the same triple; one supersessions row per old file and triple."""
    params = {"h": receipt.file_hash, "run_id": receipt.run_id, "at": receipt.received_at}
    wh.execute(
        "log supersessions",
        f"""
        insert into supersessions
        select $run_id, $h, e.file_hash, e.program_code, e.period, e.township, count(*), $at
        from entitlements e
        where e.superseded_by is null and e.file_hash <> $h
          and {_SAME_TRIPLE}
        group by e.file_hash, e.program_code, e.period, e.township
    """,
        params,
    )
    wh.execute(
        "supersede",
        f"""
        update entitlements e set superseded_by = $h
        where e.superseded_by is null and e.file_hash <> $h
          and {_SAME_TRIPLE}
    """,
        {"h": receipt.file_hash},
    )


_STILL_CURRENT_ELSEWHERE = """
    n.file_hash = $h and exists (
        select 1 from entitlements o
        where o.superseded_by is null and o.file_hash <> $h
          and o.id_number = n.id_number and o.program_code = n.program_code and o.period = n.period)
"""


def _reject_existing_entitlements(wh: Warehouse, receipt: Receipt, tables: list[RawTable]) -> pl.DataFrame:
    """New roster rows whose (id, program, period) is still current from another file
    (after supersession) are removed and rejected ENTITLEMENT_EXISTS."""
    taken = wh.frame(
        "entitlement exists",
        f"""
        select n.sheet, n.source_row, n.id_number from entitlements n where {_STILL_CURRENT_ELSEWHERE}
    """,
        {"h": receipt.file_hash},
    )
    if taken.height == 0:
        return make_rejects(NO_REJECTS, None)
    wh.execute(
        "drop existing entitlements",
        f"delete from entitlements n where {_STILL_CURRENT_ELSEWHERE}",
        {"h": receipt.file_hash},
    )
    return _id_rejects(taken, tables, "ENTITLEMENT_EXISTS")


def _id_rejects(rows: pl.DataFrame, tables: list[RawTable], reason_code: str) -> pl.DataFrame:
    """Rows rejected for their entitlement key, pointed at each sheet's own ID column header."""
    headers = {t.sheet: t.headers.get("id_number") for t in tables}
    rejects = make_rejects(
        rows.select(
            "source_row",
            pl.col("sheet").replace_strict(headers, default=None, return_dtype=pl.String).alias("column"),
            pl.col("id_number").alias("value"),
            pl.lit(reason_code).alias("reason_code"),
        ),
        None,
    )
    return rejects.with_columns(rows["sheet"].cast(pl.String).alias("sheet"))


def _count_loaded(wh: Warehouse, receipt: Receipt) -> int:
    table = kind_spec(receipt.kind).table  # a fixed table name from the code, not user data
    # rows(), not scalar(): duckdb 2 keeps a half-fetched result open and refuses the next statement
    return int(
        wh.rows(
            "count loaded", f"select count(*) from {table} where file_hash = $h", {"h": receipt.file_hash}
        )[0][0]
    )


def _insert_rejects(wh: Warehouse, receipt: Receipt, rejects: pl.DataFrame) -> None:
    wh.insert_frame(
        "rejects",
        rejects.with_columns(
            pl.lit(receipt.file_hash).alias("file_hash"),
            pl.lit(receipt.name).alias("file_name"),
        ),
    )


@dataclass(frozen=True)
class _Totals:
    """A file's 合计 rows against the sum of its detail rows (per table, reported on the file)."""

    control: Decimal | None
    detail: Decimal | None
    mismatches: list[str]

    @classmethod
    def of(cls, ends: list[TableEnd], details: list[Decimal | None]) -> _Totals:
        mismatches = [
            f"{e.table.sheet or '表'}：合计行 {e.control_total}，明细合计 {d or Decimal('0.00')}"
            for e, d in zip(ends, details)
            if e.control_total is not None and (d or Decimal(0)) != e.control_total
        ]
        controls = [e.control_total for e in ends if e.control_total is not None]
        known = [d for d in details if d is not None]
        return cls(
            sum(controls, Decimal(0)) if controls else None,
            sum(known, Decimal(0)) if known else None,
            mismatches,
        )

    @property
    def reason_code(self) -> str | None:
        return "FILE_TOTAL_MISMATCH" if self.mismatches else None

    @property
    def reason(self) -> str | None:
        if not self.mismatches:
            return None
        return (
            f"{FILE_REASONS['FILE_TOTAL_MISMATCH']}（{'；'.join(self.mismatches)}），明细行已照常载入，请核对"
        )

    @property
    def warnings(self) -> tuple[str, ...]:
        return ("FILE_TOTAL_MISMATCH",) if self.mismatches else ()


def _insert_file_row(
    wh: Warehouse,
    receipt: Receipt,
    result: FileResult,
    totals: _Totals | None,
    program_code: str | None = None,
    period: str | None = None,
    reason_code: str | None = None,
) -> None:
    wh.execute(
        "insert files",
        """
        insert into files (file_hash, kind, original_name, archived_path, received_at, uploaded_by, run_id, status,
                           reason_code, reason, rows_read, rows_loaded, rows_rejected, program_code, period,
                           control_total, detail_total)
        values ($file_hash, $kind, $name, $archived, $received_at, $uploaded_by, $run_id, $status,
                $reason_code, $reason, $rows_read, $rows_loaded, $rows_rejected, $program_code, $period,
                $control_total, $detail_total)
    """,
        {
            "file_hash": receipt.file_hash,
            "kind": receipt.kind,
            "name": receipt.name,
            "archived": str(receipt.archived),
            "received_at": receipt.received_at,
            "uploaded_by": receipt.uploaded_by,
            "run_id": receipt.run_id,
            "status": result.status,
            "reason_code": reason_code or (totals.reason_code if totals else None),
            "reason": result.reason,
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_rejected": result.rows_rejected,
            "program_code": program_code,
            "period": period,
            "control_total": totals.control if totals else None,
            "detail_total": totals.detail if totals else None,
        },
    )


def _insert_run_file(wh: Warehouse, run_id: str, result: FileResult) -> None:
    wh.execute(
        "insert run_files",
        """
        insert into run_files (run_id, file_hash, original_name, kind, status, rows_read, rows_loaded, rows_rejected, reason,
                               reason_code, inferences)
        values ($run_id, $hash, $name, $kind, $status, $read, $loaded, $rejected, $reason, $reason_code, $inferences)
    """,
        {
            "run_id": run_id,
            "hash": result.file_hash,
            "name": result.name,
            "kind": result.kind,
            "status": result.status,
            "read": result.rows_read,
            "loaded": result.rows_loaded,
            "rejected": result.rows_rejected,
            "reason": result.reason,
            "reason_code": result.reason_code,
            "inferences": list(result.inferences),
        },
    )


# -- files not loaded ------------------------------------------------------------------------------


def loaded_name(wh: Warehouse, file_hash: str) -> str | None:
    """The original name of an earlier, loaded file with these bytes (None: never loaded)."""
    found = wh.rows(
        "file seen?",
        "select original_name from files where file_hash = $h and status = 'loaded'",
        {"h": file_hash},
    )
    return found[0][0] if found else None


def adopted_results(wh: Warehouse, run_id: str) -> dict[str, FileResult]:
    """Files this run adopted from a night that never finished (pipeline.adopt_unfinished_runs), by hash:
    they were loaded, and they are this night's, not duplicates."""
    rows = wh.rows(
        "adopted files",
        """
        select r.file_hash, r.original_name, r.kind, r.status, r.rows_read, r.rows_loaded, r.rows_rejected,
               r.reason, r.reason_code, coalesce(r.inferences, []), f.reason_code
        from run_files r left join files f using (file_hash)
        where r.run_id = $run_id and r.status = 'loaded'
        order by r.original_name, r.file_hash
    """,
        {"run_id": run_id},
    )
    return {
        row[0]: FileResult(
            row[1],
            row[2],
            row[0],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            warnings=(row[10],) if row[10] else (),
            reason_code=row[8],
            inferences=tuple(row[9]),
        )
        for row in rows
    }


def record_duplicate(
    wh: Warehouse, run_id: str, path: Path, kind: str, file_hash: str, earlier: str
) -> FileResult:
    reason = f"与已载入的文件“{earlier}”内容完全相同，未重复载入"
    result = FileResult(printable(path.name), kind, file_hash, "duplicate", 0, 0, 0, reason)
    with wh.transaction():
        _insert_run_file(wh, run_id, result)
    return result


def record_rejected_file(wh: Warehouse, receipt: Receipt, exc: InputFileError, rows: int) -> FileResult:
    """The whole file is unusable: every data row counts as rejected, the reason says why and how to fix."""
    # the message may name the file, whose name can hold control characters (never written raw)
    reason = printable(exc.message.rstrip("。") + (f"。处理办法：{exc.hint}" if exc.hint else ""))
    inferences = tuple(getattr(exc, "inferences", ()))
    result = FileResult(
        receipt.name,
        receipt.kind,
        receipt.file_hash,
        "rejected",
        rows,
        0,
        rows,
        reason,
        reason_code=exc.reason_code,
        inferences=inferences,
    )
    with wh.transaction():
        _forget_rejected_attempt(wh, receipt.file_hash)
        _insert_file_row(wh, receipt, result, None, reason_code=exc.reason_code)
        _insert_file_reject(wh, receipt.file_hash, receipt.name, exc.reason_code, reason)
        _insert_run_file(wh, receipt.run_id, result)
    return result


def _insert_file_reject(wh: Warehouse, file_hash: str, name: str, reason_code: str, reason: str) -> None:
    """A whole file not loaded is one line of rejects.csv (no row or column), so the clerk sees it there too."""
    wh.execute(
        "file reject",
        "insert into rejects (file_hash, file_name, reason_code, reason) values ($h, $n, $c, $r)",
        {"h": file_hash, "n": name, "c": reason_code, "r": reason},
    )


def record_stray(
    wh: Warehouse, run_id: str, copy: Snapshot, reason: str, limits: Settings | None = None
) -> FileResult:
    """An upload outside the kind folders: reported in run.json only (not in `files`, so
    the same bytes moved into the right folder load normally). Its rows are counted from its copy."""
    rows = count_data_rows(copy.copy, limits)
    result = FileResult(
        printable(copy.upload.path.name),
        "unknown",
        copy.file_hash,
        "rejected",
        rows,
        0,
        rows,
        reason,
        reason_code="FILE_KIND_UNKNOWN",
    )
    with wh.transaction():
        wh.execute(
            "forget earlier stray reject",  # only its own line: the same bytes may have loaded elsewhere
            "delete from rejects where file_hash = $h and reason_code = 'FILE_KIND_UNKNOWN'",
            {"h": result.file_hash},
        )
        _insert_file_reject(wh, result.file_hash, result.name, "FILE_KIND_UNKNOWN", reason)
        _insert_run_file(wh, run_id, result)
    return result


def record_not_regular(wh: Warehouse, run_id: str, path: Path, kind: str, reason: str) -> FileResult:
    """An inbox entry that is not a regular file (a link, a FIFO, a device): never opened, so its
    rows are unknown (0) and its hash names the entry, not its content."""
    file_hash = "entry:" + hashlib.sha256(os.fsencode(path)).hexdigest()[:32]
    result = FileResult(
        printable(path.name), kind, file_hash, "rejected", 0, 0, 0, reason, reason_code="INBOX_NOT_REGULAR"
    )
    with wh.transaction():
        wh.execute(
            "forget earlier entry reject",
            "delete from rejects where file_hash = $h",
            {"h": file_hash},
        )
        _insert_file_reject(wh, file_hash, result.name, "INBOX_NOT_REGULAR", reason)
        _insert_run_file(wh, run_id, result)
    return result
