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
from ykt.ingest.archive import archive_file, check_archive_space
from ykt.ingest.inbox import (
    discover_inbox,
    kind_from_folder,
    list_uploads,
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
from ykt.ingest.snapshot import (
    NotTheListedFile,
    Snapshot,
    Upload,
    remove_snapshots,
    snapshot_folder,
    take_snapshot,
)
from ykt.ingest.stream import FileItem, drain, file_items, part_stream, reread_parts
from ykt.ingest.types import FileResult, Normalised, RawTable
from ykt.masking import printable
from ykt.warehouse import Warehouse

log = logging.getLogger("ykt.ingest")

# (the night's copy of a new or duplicate file, name of an earlier file with the same bytes or None)
_Planned = tuple[Snapshot, str | None]


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

    Each upload is first copied through its one opening (ykt.ingest.snapshot); duplicates are found
    from those copies' hashes; the new files then flow part by part through reading → normalising →
    loading stages (threads, see ykt.ingest.stream), each file in its own transaction. A file this run
    adopted from an unfinished night (`adopted_results`) is this night's loaded file again, not a
    duplicate: its earlier result is reported as it was.
    """
    folder = snapshot_folder(archive_dir)
    try:
        uploads, strays, swapped = _take_snapshots(inbox, folder, (archive_dir, *exclude))
        results = _ingest_snapshots(wh, uploads, programs, aliases, run_id, archive_dir, uploaded_by)
        results += _not_loaded(wh, inbox, run_id, strays, swapped, programs, (archive_dir, *exclude))
        return results
    finally:
        remove_snapshots(archive_dir, folder)


def _take_snapshots(
    inbox: Path, folder: Path, exclude: Sequence[Path]
) -> tuple[list[Snapshot], list[Snapshot], list[tuple[Upload, str]]]:
    """The night's copies of the uploads and of the strays, and the entries swapped since the listing."""
    listed = list_uploads(inbox)
    stray = stray_files(inbox, exclude)

    def take(job: tuple[int, Upload]) -> Snapshot | tuple[Upload, str] | None:
        try:
            return take_snapshot(job[1], folder, job[0])
        except NotTheListedFile as exc:
            return job[1], exc.what
        except FileNotFoundError:  # taken out of the inbox since the listing: not this night's
            return None

    # two files at a time: hashlib and file copies release the GIL, and copying a night's GBs is
    # the only work before the first file starts loading
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ykt-copy") as pool:
        taken = list(pool.map(take, enumerate(listed + stray)))
    copies = [t for t in taken if isinstance(t, Snapshot)]
    swapped = [t for t in taken if isinstance(t, tuple)]
    strays = [c for c in copies if c.upload.kind == "unknown"]
    return [c for c in copies if c.upload.kind != "unknown"], strays, swapped


def _ingest_snapshots(
    wh: Warehouse,
    uploads: list[Snapshot],
    programs: Programs,
    aliases: ColumnAliases,
    run_id: str,
    archive_dir: Path,
    uploaded_by: str,
) -> list[FileResult]:
    plan = _plan(wh, uploads)
    for copy, earlier in plan:
        if earlier is not None:  # never read: its disk space back now
            copy.copy.unlink()
    adopted = adopted_results(wh, run_id)
    results: list[FileResult] = []
    stream = part_stream(
        [(c.copy, c.upload.kind) for c, earlier in plan if earlier is None], programs, aliases
    )
    try:
        for copy, earlier in plan:
            if copy.file_hash in adopted:
                results.append(adopted.pop(copy.file_hash))
            elif earlier is not None:
                path, kind = copy.upload.path, copy.upload.kind
                results.append(record_duplicate(wh, run_id, path, kind, copy.file_hash, earlier))
            else:
                log.info(
                    "读取 %s（%s，%.1f MB）",
                    printable(copy.upload.path.name),
                    copy.upload.kind,
                    _megabytes(copy.copy),
                )
                parts = file_items(stream)
                results.append(
                    ingest_file(wh, copy, programs, aliases, run_id, archive_dir, uploaded_by, parts=parts)
                )
    finally:
        stream.close()
    results.extend(adopted.values())  # loaded by the unfinished night, gone from the inbox since
    return results


def _not_loaded(
    wh: Warehouse,
    inbox: Path,
    run_id: str,
    strays: list[Snapshot],
    swapped: list[tuple[Upload, str]],
    programs: Programs,
    exclude: Sequence[Path],
) -> list[FileResult]:
    """Uploads outside the kind folders, and entries that are not regular files (found by the listing,
    or swapped for something else after it: reported once, never read)."""
    resolved = Path(inbox).resolve()
    results = []
    for copy in strays:
        reason = stray_reason(copy.upload.path, resolved)
        results.append(record_stray(wh, run_id, copy, reason, programs.settings))
    found = [(resolved / u.path.relative_to(inbox), what) for u, what in swapped]
    reported = {path for path, _ in found}
    found += [entry for entry in not_regular_entries(inbox, exclude) if entry[0] not in reported]
    for path, what in sorted(found):
        reason = not_regular_reason(path, what, resolved)
        results.append(record_not_regular(wh, run_id, path, kind_from_folder(path) or "unknown", reason))
    return results


def check_inbox_space(inbox: Path, archive_dir: Path) -> None:
    """Before any work: the archive's disk must hold a copy of every inbox upload (DiskSpaceError)."""
    check_archive_space([path for path, _ in discover_inbox(inbox)], archive_dir)


def _plan(wh: Warehouse, copies: list[Snapshot]) -> list[_Planned]:
    """Each file's copy with, for a duplicate, the name of the earlier file."""
    seen: dict[str, str] = {}  # hash -> name, for files seen earlier in this run
    plan: list[_Planned] = []
    for copy in copies:
        plan.append((copy, seen.get(copy.file_hash) or loaded_name(wh, copy.file_hash)))
        seen.setdefault(copy.file_hash, printable(copy.upload.path.name))
    return plan


def ingest_file(
    wh: Warehouse,
    copy: Snapshot,
    programs: Programs,
    aliases: ColumnAliases,
    run_id: str,
    archive_dir: Path,
    uploaded_by: str = "nightly",
    *,
    parts: Iterator[FileItem] | None = None,
) -> FileResult:
    """Archive, read, normalise and load one (new) file, from its night copy, in one transaction.
    `parts`: the file's items of ingest_inbox's stream (shared by all files); by default its own."""
    received_at = dt.datetime.now().replace(microsecond=0)
    path, kind = copy.upload.path, copy.upload.kind
    archived = archive_file(
        copy.copy,
        archive_dir,
        copy.file_hash,
        original=path,
        uploaded_by=uploaded_by,
        received_at=received_at,
    )
    receipt = Receipt(path, kind, copy.file_hash, archived, received_at, uploaded_by, run_id, copy.copy)
    if parts is not None:
        return _load(wh, receipt, parts, programs, aliases)
    stream = part_stream([(copy.copy, kind)], programs, aliases)
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
        return record_rejected_file(wh, receipt, exc, count_data_rows(receipt.source, programs.settings))
    except ColumnDecisionsChanged as changed:  # rare: read it again with the whole file's decisions
        drain(items)
        parts = reread_parts((receipt.source, receipt.kind), programs, aliases, changed.decisions)
        try:
            return load_file(wh, receipt, parts, programs.settings)
        except InputFileError as exc:
            return record_rejected_file(wh, receipt, exc, count_data_rows(receipt.source, programs.settings))


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
