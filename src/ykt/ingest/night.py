"""The night's ingest of an inbox, and the same per-file steps without the warehouse for `ykt check`.

Per inbox file: content hash → duplicate (same bytes already loaded, or seen earlier in this run)
or archive → read → normalise/validate → load in ONE transaction (ykt.ingest.load). The new files
flow part by part through the reading and normalising threads (ykt.ingest.stream) to the loader.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ykt.config import Programs
from ykt.errors import InputFileError
from ykt.ingest.alarm import layout_alarm
from ykt.ingest.archive import archive_file, check_archive_space, content_hash
from ykt.ingest.inbox import (
    discover_inbox,
    kind_from_folder,
    not_regular_entries,
    not_regular_reason,
    stray_files,
    stray_reason,
)
from ykt.ingest.load import (
    Receipt,
    adopted_results,
    load_file,
    loaded_name,
    record_duplicate,
    record_not_regular,
    record_rejected_file,
    record_stray,
)
from ykt.ingest.normalise import normalise
from ykt.ingest.read import ColumnAliases, ColumnDecisionsChanged, count_data_rows, detect_kind, read_tables
from ykt.ingest.stream import FileItem, drain, file_items, part_stream, reread_parts
from ykt.ingest.types import FileResult, Normalised, RawTable
from ykt.masking import printable
from ykt.warehouse import Warehouse

log = logging.getLogger("ykt.ingest")

# (file, kind, content hash, name of an earlier file with the same bytes or None)
_Planned = tuple[Path, str, str, str | None]


def _megabytes(path: Path) -> float:
    try:
        return path.stat().st_size / 1e6
    except OSError:  # gone since the inbox was listed: ingest_file says so
        return 0.0


def ingest_inbox(
    wh: Warehouse,
    inbox: Path,
    programs: Programs,
    aliases: ColumnAliases,
    run_id: str,
    archive_dir: Path,
    uploaded_by: str = "nightly",
    exclude: Sequence[Path] = (),
) -> list[FileResult]:
    """Ingest every inbox file not loaded before; one FileResult (and run_files row) per file.

    Duplicates are found first (content hashes); the new files then flow part by part through
    reading → normalising → loading stages (threads, see ykt.ingest.stream), each file in its own
    transaction. A file this run adopted from an unfinished night (`adopted_results`) is this
    night's loaded file again, not a duplicate: its earlier result is reported as it was.
    """
    plan = _plan(wh, discover_inbox(inbox))
    adopted = adopted_results(wh, run_id)
    results: list[FileResult] = []
    stream = part_stream(
        [(path, kind) for path, kind, _, earlier in plan if earlier is None], programs, aliases
    )
    try:
        for path, kind, file_hash, earlier in plan:
            if file_hash in adopted:
                results.append(adopted.pop(file_hash))
                continue
            if earlier is not None:
                results.append(record_duplicate(wh, run_id, path, kind, file_hash, earlier))
                continue
            log.info("读取 %s（%s，%.1f MB）", printable(path.name), kind, _megabytes(path))
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
                    parts=file_items(stream),
                )
            )
    finally:
        stream.close()
    results.extend(adopted.values())  # loaded by the unfinished night, gone from the inbox since
    resolved = Path(inbox).resolve()
    for path in stray_files(inbox, (archive_dir, *exclude)):
        results.append(record_stray(wh, run_id, path, stray_reason(path, resolved), programs.settings))
    for path, what in not_regular_entries(inbox, (archive_dir, *exclude)):
        reason = not_regular_reason(path, what, resolved)
        results.append(record_not_regular(wh, run_id, path, kind_from_folder(path) or "unknown", reason))
    return results


def check_inbox_space(inbox: Path, archive_dir: Path) -> None:
    """Before any work: the archive's disk must hold a copy of every inbox upload (DiskSpaceError)."""
    check_archive_space([path for path, _ in discover_inbox(inbox)], archive_dir)


def _plan(wh: Warehouse, found: list[tuple[Path, str]]) -> list[_Planned]:
    """Each file with its content hash and, for a duplicate, the name of the earlier file."""
    seen: dict[str, str] = {}  # hash -> name, for files seen earlier in this run
    # two files at a time: hashlib releases the GIL, and hashing a night's GBs is the only work
    # before the first file starts loading
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ykt-hash") as pool:
        hashes = list(pool.map(content_hash, [path for path, _ in found]))
    plan: list[_Planned] = []
    for (path, kind), file_hash in zip(found, hashes):
        plan.append((path, kind, file_hash, seen.get(file_hash) or loaded_name(wh, file_hash)))
        seen.setdefault(file_hash, printable(path.name))
    return plan


def ingest_file(
    wh: Warehouse,
    path: Path,
    kind: str,
    file_hash: str,
    programs: Programs,
    aliases: ColumnAliases,
    run_id: str,
    archive_dir: Path,
    uploaded_by: str = "nightly",
    *,
    parts: Iterator[FileItem] | None = None,
) -> FileResult:
    """Archive, read, normalise and load one (new) file in one transaction.
    `parts`: the file's items of ingest_inbox's stream (shared by all files); by default its own."""
    received_at = dt.datetime.now().replace(microsecond=0)
    archived = archive_file(path, archive_dir, file_hash, uploaded_by=uploaded_by, received_at=received_at)
    receipt = Receipt(Path(path), kind, file_hash, archived, received_at, uploaded_by, run_id)
    if parts is not None:
        return _load(wh, receipt, parts, programs, aliases)
    stream = part_stream([(Path(path), kind)], programs, aliases)
    try:
        return _load(wh, receipt, file_items(stream), programs, aliases)
    finally:
        stream.close()


def _load(
    wh: Warehouse, receipt: Receipt, items: Iterator[FileItem], programs: Programs, aliases: ColumnAliases
) -> FileResult:
    try:
        return load_file(wh, receipt, items, programs.settings)
    except InputFileError as exc:
        drain(items)
        return record_rejected_file(wh, receipt, exc, count_data_rows(receipt.path, programs.settings))
    except ColumnDecisionsChanged as changed:  # rare: read it again with the whole file's decisions
        drain(items)
        parts = reread_parts((receipt.path, receipt.kind), programs, aliases, changed.decisions)
        try:
            return load_file(wh, receipt, parts, programs.settings)
        except InputFileError as exc:
            return record_rejected_file(wh, receipt, exc, count_data_rows(receipt.path, programs.settings))


# -- without the warehouse (`ykt check`) --------------------------------------------------------


@dataclass(frozen=True)
class CheckedTable:
    """One table of a checked file: its rows' outcome, and where its columns sit in the
    sheet (header text → 1-based column), so `ykt check` can point at each bad cell
    without reading the file again."""

    sheet: str | None
    normalised: Normalised
    columns: dict[str, int]
    inferences: tuple[str, ...] = ()  # what reading and normalising inferred, in Chinese
    headers: dict[str, str] = field(default_factory=dict)  # role -> the header text as written

    @property
    def rejects(self) -> pl.DataFrame:
        return self.normalised.rejects

    @property
    def rows_read(self) -> int:
        return self.normalised.rows_read


def check_file(
    path: Path, kind: str | None, programs: Programs, aliases: ColumnAliases
) -> list[CheckedTable]:
    """Read, normalise and validate a file without loading it (`ykt check`).
    Raises InputFileError when the file cannot be used as a whole."""
    kind = kind or kind_from_folder(Path(path)) or detect_kind(Path(path), aliases, programs.settings)
    prepared = prepare_file(Path(path), kind, programs, aliases)
    if prepared.error is not None:
        raise prepared.error
    return [
        CheckedTable(
            table.sheet, result, _header_columns(table), table.inferences + result.inferences, table.headers
        )
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


def prepare_file(path: Path, kind: str, programs: Programs, aliases: ColumnAliases) -> Prepared:
    """Read and normalise every table of one file; an unusable file comes back as its error."""
    try:
        tables = read_tables(path, kind, aliases, programs)
        results = [normalise(table, programs, date1904=table.date1904) for table in tables]
    except InputFileError as exc:
        return Prepared(error=exc)
    rejects = [r.rejects for r in results if r.rejects.height]
    rows_read = sum(r.rows_read for r in results)
    alarm = layout_alarm(tables, pl.concat(rejects), rows_read, programs.settings) if rejects else None
    return Prepared(error=alarm) if alarm is not None else Prepared(tables, results)
