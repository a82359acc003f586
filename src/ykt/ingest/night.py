"""Loading the inbox into the warehouse: nothing lost, nothing doubled (issue 3).

Per inbox file: content hash → duplicate (same bytes already loaded, or seen
earlier in this run) or archive → read → normalise/validate → ONE transaction
that inserts the rows, the rejects, the `files` row, the supersession of earlier
rosters for the same (program, period, township) and the `run_files` row. A crash
half-way leaves nothing; the next run picks the file up again.

A big CSV is read, normalised and inserted in parts (BATCH_ROWS rows) inside its one
transaction, reading → normalising → loading running as pipelined threads; what needs the
whole file is done once all parts are in: in-file duplicate keys (SQL over the inserted
rows), the 合计 control totals (added up part by part), row accounting.

A file rejected as a whole (InputFileError) is recorded with every data row
counted as rejected. It is not a "duplicate" next night: the same bytes are tried
again (a configuration fix, e.g. a new program alias, may now let it load).
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from ykt.config import Programs
from ykt.errors import InputFileError
from ykt.ingest.archive import archive_file, content_hash
from ykt.ingest.normalise import normalise
from ykt.ingest.types import (
    FileResult,
    Normalised,
    RawTable,
    TableEnd,
)
from ykt.ingest.validate import NO_REJECTS, make_rejects
from ykt.kinds import KIND_SPECS, KINDS, kind_spec
from ykt.reasons import FILE_REASONS
from ykt.warehouse import Warehouse

INBOX_FOLDERS: dict[str, str] = {code: spec.inbox_folder for code, spec in KIND_SPECS.items()}


# -- discovery ---------------------------------------------------------------------------------


def _is_upload(path: Path) -> bool:
    """Skip what the OS or Excel leaves behind (.DS_Store, ~$lock files, partial copies)."""
    return path.is_file() and not path.name.startswith((".", "~$")) and not path.name.endswith(".partial")


def discover_inbox(inbox: Path) -> list[tuple[Path, str]]:
    """Every uploaded file of the inbox with its kind (from its folder), sorted by path.

    Files of any suffix are listed: one the reader cannot open is reported as
    rejected instead of silently ignored.
    """
    found = [
        (path, kind)
        for kind, folder in INBOX_FOLDERS.items()
        for path in (Path(inbox) / folder).rglob("*")
        if _is_upload(path)
    ]
    return sorted(found, key=lambda item: str(item[0]))


def stray_files(inbox: Path, exclude: Sequence[Path] = ()) -> list[Path]:
    """Uploads outside the four kind folders: their kind is unknown, so they are reported, not read.

    `exclude` names our own files (warehouse, archive, outputs) in case they were put inside the inbox.
    """
    inbox = Path(inbox).resolve()
    skip = [inbox / folder for folder in INBOX_FOLDERS.values()] + [Path(p).resolve() for p in exclude]
    return sorted(p for p in inbox.rglob("*") if _is_upload(p) and not any(p.is_relative_to(k) for k in skip))


# -- per file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedTable:
    """One table of a checked file: its rows' outcome, and where its columns sit in the
    sheet (header text → 1-based column), so `ykt check` can point at each bad cell
    without reading the file again."""

    sheet: str | None
    normalised: Normalised
    columns: dict[str, int]

    @property
    def rejects(self) -> pl.DataFrame:
        return self.normalised.rejects

    @property
    def rows_read(self) -> int:
        return self.normalised.rows_read


def check_file(path: Path, kind: str | None, programs: Programs, aliases) -> list[CheckedTable]:
    """Read, normalise and validate a file without loading it (`ykt check`).
    Raises InputFileError when the file cannot be used as a whole."""
    from ykt.ingest.read import detect_kind

    kind = kind or _kind_from_folder(Path(path)) or detect_kind(Path(path), aliases)
    prepared = prepare_file(Path(path), kind, programs, aliases)
    if prepared.error is not None:
        raise prepared.error
    return [
        CheckedTable(table.sheet, result, _header_columns(table))
        for table, result in zip(prepared.tables, prepared.results)
    ]


def _header_columns(table: RawTable) -> dict[str, int]:
    """Header text as written → 1-based sheet column (the first column wins for a repeated text)."""
    columns: dict[str, int] = {}
    for role, label in table.headers.items():
        if role in table.positions:
            columns.setdefault(label, table.positions[role] + 1)
    return columns


@dataclass(frozen=True)
class Prepared:
    """A file read and normalised (no warehouse involved), or the reason it cannot be used."""

    tables: list[RawTable] = field(default_factory=list)
    results: list[Normalised] = field(default_factory=list)
    error: InputFileError | None = None


def prepare_file(path: Path, kind: str, programs: Programs, aliases) -> Prepared:
    """Read and normalise every table of one file; an unusable file comes back as its error."""
    from ykt.ingest.read import read_tables

    try:
        tables = read_tables(path, kind, aliases, programs)
        return Prepared(tables, [normalise(table, programs, date1904=table.date1904) for table in tables])
    except InputFileError as exc:
        return Prepared(error=exc)


# Rows per part of a big CSV: read, normalised, validated and inserted part by part inside the
# file's one transaction, so a 5M-row file never sits whole in memory (workbooks are read whole).
BATCH_ROWS = 250_000
# Parts a stage may hold ready for the next one (reading → normalising → loading).
PIPELINE_DEPTH = 2
_FILE_DONE = object()  # closes one file's items in the stream


def _read_stream(
    jobs: list[tuple[Path, str]], programs: Programs, aliases, batch_rows: int
) -> Iterator[object]:
    """Every job's parts and TableEnds in order; a file that cannot be read gives its error as an
    item (the stream goes on with the next file); each file's items end with _FILE_DONE."""
    from ykt.ingest.read import ColumnDecisionsChanged, read_batches

    for path, kind in jobs:
        try:
            yield from read_batches(path, kind, aliases, programs, batch_rows)
        except (InputFileError, ColumnDecisionsChanged) as exc:
            yield exc
        yield _FILE_DONE


def _normalised_stream(items: Iterator[object], programs: Programs) -> Iterator[object]:
    """Each part becomes (part, its Normalised); the in-file key check is the loader's (across parts)."""
    for item in items:
        yield (
            (item, normalise(item, programs, date1904=item.date1904, key_check=False))
            if isinstance(item, RawTable)
            else item
        )


def _ahead(items: Iterator[object], name: str, depth: int = PIPELINE_DEPTH) -> Iterator[object]:
    """`items`, produced in a worker thread up to `depth` items ahead of the consumer. The stages
    overlap because polars and DuckDB release the GIL while they work (two cores: decoding one part
    while another is normalised and a third inserted). Closing this generator stops the worker."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    threading.Thread(target=work, name=name, daemon=True).start()
    try:
        while True:
            more, item = ready.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()


def _pipeline(jobs: list[tuple[Path, str]], programs: Programs, aliases, batch_rows: int) -> Iterator[object]:
    reading = _ahead(_read_stream(jobs, programs, aliases, batch_rows), "ykt-read")
    return _ahead(_normalised_stream(reading, programs), "ykt-normalise")


def _file_items(stream: Iterator[object]) -> Iterator[object]:
    """The items of the stream's current file (up to its _FILE_DONE)."""
    for item in stream:
        if item is _FILE_DONE:
            return
        yield item


def _kind_from_folder(path: Path) -> str | None:
    parts = path.parent.parts
    for kind, folder in INBOX_FOLDERS.items():
        if tuple(folder.split("/")) == parts[-len(folder.split("/")) :]:
            return kind
    return None


def ingest_inbox(
    wh: Warehouse,
    inbox: Path,
    programs: Programs,
    aliases,
    run_id: str,
    archive_dir: Path,
    uploaded_by: str = "nightly",
    exclude: Sequence[Path] = (),
) -> list[FileResult]:
    """Ingest every inbox file not loaded before; one FileResult (and run_files row) per file.

    Duplicates are found first (content hashes); the new files then flow part by part through
    reading → normalising → loading stages (threads, see _ahead), each file in its own transaction.
    """
    plan: list[tuple[Path, str, str, str | None]] = []
    seen: dict[str, str] = {}  # hash -> name, for files seen earlier in this run
    found = list(discover_inbox(inbox))
    # two files at a time: hashlib releases the GIL, and hashing a night's GBs is the only work
    # before the first file starts loading
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ykt-hash") as pool:
        hashes = list(pool.map(content_hash, [path for path, _ in found]))
    for (path, kind), file_hash in zip(found, hashes):
        plan.append((path, kind, file_hash, seen.get(file_hash) or _loaded_name(wh, file_hash)))
        seen.setdefault(file_hash, path.name)
    results: list[FileResult] = []
    stream = _pipeline(
        [(path, kind) for path, kind, _, earlier in plan if earlier is None], programs, aliases, BATCH_ROWS
    )
    try:
        for path, kind, file_hash, earlier in plan:
            if earlier is not None:
                results.append(_record_duplicate(wh, run_id, path, kind, file_hash, earlier))
            else:
                results.append(
                    ingest_file(
                        wh,
                        path,
                        kind,
                        file_hash,
                        programs,
                        aliases,
                        run_id,
                        archive_dir,
                        uploaded_by,
                        parts=_file_items(stream),
                    )
                )
    finally:
        stream.close()
    for path in stray_files(inbox, (archive_dir, *exclude)):
        results.append(_record_stray(wh, run_id, path, Path(inbox).resolve()))
    return results


def ingest_file(
    wh: Warehouse,
    path: Path,
    kind: str,
    file_hash: str,
    programs: Programs,
    aliases,
    run_id: str,
    archive_dir: Path,
    uploaded_by: str = "nightly",
    *,
    parts: Iterator[object] | None = None,
) -> FileResult:
    """Archive, read, normalise and load one (new) file in one transaction.
    `parts`: the file's items of ingest_inbox's pipeline (shared by all files); by default its own."""
    from ykt.ingest.read import ColumnDecisionsChanged, count_data_rows

    received_at = dt.datetime.now().replace(microsecond=0)
    archived = archive_file(path, archive_dir, file_hash, uploaded_by=uploaded_by, received_at=received_at)
    receipt = _Receipt(path, kind, file_hash, archived, received_at, uploaded_by, run_id)
    stream = _pipeline([(Path(path), kind)], programs, aliases, BATCH_ROWS) if parts is None else None
    items = parts if stream is None else _file_items(stream)
    try:
        return load_file(wh, receipt, items)
    except InputFileError as exc:
        _drain(items)
        return _record_rejected_file(wh, receipt, exc, count_data_rows(path))
    except ColumnDecisionsChanged as changed:  # rare: read it again with the whole file's decisions
        _drain(items)
        return _reload(wh, receipt, programs, aliases, changed.decisions)
    finally:
        if stream is not None:
            stream.close()


def _drain(items: Iterator[object]) -> None:
    """Skip what is left of a file that will not load (the shared stream moves on to the next file)."""
    for _ in items:
        pass


def _reload(
    wh: Warehouse, receipt: _Receipt, programs: Programs, aliases, decisions: dict[str, bool]
) -> FileResult:
    from ykt.ingest.read import count_data_rows, read_batches

    parts = _normalised_stream(
        read_batches(receipt.path, receipt.kind, aliases, programs, BATCH_ROWS, decisions), programs
    )
    try:
        return load_file(wh, receipt, parts)
    except InputFileError as exc:
        return _record_rejected_file(wh, receipt, exc, count_data_rows(receipt.path))


class _Receipt:
    """Who/what/when of one file being ingested (the `files` row's identity columns)."""

    def __init__(
        self,
        path: Path,
        kind: str,
        file_hash: str,
        archived: Path,
        received_at: dt.datetime,
        uploaded_by: str,
        run_id: str,
    ):
        self.path, self.kind, self.file_hash, self.archived = Path(path), kind, file_hash, archived
        self.received_at, self.uploaded_by, self.run_id = received_at, uploaded_by, run_id

    @property
    def name(self) -> str:
        return self.path.name


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
        self.values: dict[str, set] = {"program_code": set(), "period": set()}

    def add(self, table: RawTable, result: Normalised) -> None:
        self.rows_read += result.rows_read
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

    def single_value(self, column: str) -> str | None:
        """The file's program / period when all its rows share one (for run.json and supersession logs)."""
        seen = self.values[column]
        return next(iter(seen)) if len(seen) == 1 else None


def load_file(wh: Warehouse, receipt: _Receipt, parts: Iterator[object]) -> FileResult:
    """Everything of one file in ONE transaction: rows (inserted part by part as they come), rejects,
    in-file duplicate keys, supersession, files and run_files rows. An error item (the file cannot be
    used after all) is raised inside the transaction: nothing of the file stays."""
    with wh.transaction():
        _forget_rejected_attempt(wh, receipt.file_hash)
        got = _insert_parts(wh, receipt, parts)
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
        )
        _insert_file_row(
            wh, receipt, result, totals, got.single_value("program_code"), got.single_value("period")
        )
        _insert_run_file(wh, receipt.run_id, result)
    return result


def _insert_parts(wh: Warehouse, receipt: _Receipt, parts: Iterator[object]) -> _Loaded:
    got = _Loaded()
    for item in parts:
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, TableEnd):
            got.ends.append(item)
            continue
        table, result = item
        _insert_rows(wh, receipt.kind, _with_hash(result.loaded, receipt.file_hash))
        got.add(table, result)
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


def _key_duplicates(wh: Warehouse, receipt: _Receipt, got: _Loaded) -> pl.DataFrame:
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


def _delete_rows(wh: Warehouse, receipt: _Receipt, rows: pl.DataFrame) -> None:
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


def _cross_sheet_duplicates(wh: Warehouse, receipt: _Receipt, tables: list[RawTable]) -> pl.DataFrame:
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


def _supersede(wh: Warehouse, receipt: _Receipt) -> None:
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


def _reject_existing_entitlements(wh: Warehouse, receipt: _Receipt, tables: list[RawTable]) -> pl.DataFrame:
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


def _count_loaded(wh: Warehouse, receipt: _Receipt) -> int:
    table = kind_spec(receipt.kind).table  # a fixed table name from the code, not user data
    # rows(), not scalar(): duckdb 2 keeps a half-fetched result open and refuses the next statement
    return int(
        wh.rows(
            "count loaded", f"select count(*) from {table} where file_hash = $h", {"h": receipt.file_hash}
        )[0][0]
    )


def _insert_rejects(wh: Warehouse, receipt: _Receipt, rejects: pl.DataFrame) -> None:
    wh.insert_frame(
        "rejects",
        rejects.with_columns(
            pl.lit(receipt.file_hash).alias("file_hash"),
            pl.lit(receipt.name).alias("file_name"),
        ),
    )


class _Totals:
    """A file's 合计 rows against the sum of its detail rows (per table, reported on the file)."""

    def __init__(self, control: Decimal | None, detail: Decimal | None, mismatches: list[str]):
        self.control, self.detail, self.mismatches = control, detail, mismatches

    @classmethod
    def of(cls, ends: list[TableEnd], details: list[Decimal | None]) -> _Totals:
        mismatches = [
            f"{e.table.sheet or '表'}：合计行 {e.control_total}，明细合计 {d or Decimal('0.00')}"
            for e, d in zip(ends, details)
            if e.control_total is not None and (d or Decimal(0)) != e.control_total
        ]
        controls = [e.control_total for e in ends if e.control_total is not None]
        known = [d for d in details if d is not None]
        return cls(sum(controls) if controls else None, sum(known) if known else None, mismatches)

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
    receipt: _Receipt,
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
        insert into run_files (run_id, file_hash, original_name, kind, status, rows_read, rows_loaded, rows_rejected, reason)
        values ($run_id, $hash, $name, $kind, $status, $read, $loaded, $rejected, $reason)
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
        },
    )


# -- files not loaded ------------------------------------------------------------------------------


def _loaded_name(wh: Warehouse, file_hash: str) -> str | None:
    """The original name of an earlier, loaded file with these bytes (None: never loaded)."""
    found = wh.rows(
        "file seen?",
        "select original_name from files where file_hash = $h and status = 'loaded'",
        {"h": file_hash},
    )
    return found[0][0] if found else None


def _record_duplicate(
    wh: Warehouse, run_id: str, path: Path, kind: str, file_hash: str, earlier: str
) -> FileResult:
    reason = f"与已载入的文件“{earlier}”内容完全相同，未重复载入"
    result = FileResult(path.name, kind, file_hash, "duplicate", 0, 0, 0, reason)
    with wh.transaction():
        _insert_run_file(wh, run_id, result)
    return result


def _record_rejected_file(wh: Warehouse, receipt: _Receipt, exc: InputFileError, rows: int) -> FileResult:
    """The whole file is unusable: every data row counts as rejected, the reason says why and how to fix."""
    reason = exc.message.rstrip("。") + (f"。处理办法：{exc.hint}" if exc.hint else "")
    result = FileResult(receipt.name, receipt.kind, receipt.file_hash, "rejected", rows, 0, rows, reason)
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


def _record_stray(wh: Warehouse, run_id: str, path: Path, inbox: Path) -> FileResult:
    """An upload outside the kind folders: reported in run.json only (not in `files`, so
    the same bytes moved into the right folder load normally)."""
    from ykt.ingest.read import count_data_rows

    rows = count_data_rows(path)
    folders = "、".join(f"{f}/" for f in INBOX_FOLDERS.values())
    reason = f"{FILE_REASONS['FILE_KIND_UNKNOWN']}：{path.relative_to(inbox)}。请放入 {folders} 之一"
    result = FileResult(path.name, "unknown", content_hash(path), "rejected", rows, 0, rows, reason)
    with wh.transaction():
        wh.execute(
            "forget earlier stray reject",  # only its own line: the same bytes may have loaded elsewhere
            "delete from rejects where file_hash = $h and reason_code = 'FILE_KIND_UNKNOWN'",
            {"h": result.file_hash},
        )
        _insert_file_reject(wh, result.file_hash, path.name, "FILE_KIND_UNKNOWN", reason)
        _insert_run_file(wh, run_id, result)
    return result


__all__ = [
    "INBOX_FOLDERS",
    "KINDS",
    "CheckedTable",
    "Prepared",
    "discover_inbox",
    "stray_files",
    "check_file",
    "prepare_file",
    "ingest_inbox",
    "ingest_file",
    "load_file",
    "BATCH_ROWS",
]
