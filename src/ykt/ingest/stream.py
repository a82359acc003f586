"""The night's files as one stream of typed parts: reading → normalising run in worker threads ahead of
the loader, so three parts are worked on at once (polars and DuckDB release the GIL).

A big CSV comes in parts of BATCH_ROWS rows; a workbook as one part per table. Each table's parts are
followed by its TableEnd, and each file's items end with FileDone; a file that cannot be read gives
an Unreadable item instead of stopping the stream, which goes on with the next file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias, TypeVar

from ykt.config import Programs
from ykt.errors import InputFileError
from ykt.ingest.normalise import normalise
from ykt.ingest.read import ColumnAliases, ColumnDecisionsChanged, read_batches
from ykt.ingest.types import Normalised, RawTable, TableEnd

# Rows per part of a big CSV: read, normalised, validated and inserted part by part inside the
# file's one transaction, so a 5M-row file never sits whole in memory (workbooks are read whole).
BATCH_ROWS = 250_000
# Parts a stage may hold ready for the next one (reading → normalising → loading).
PIPELINE_DEPTH = 2


@dataclass(frozen=True)
class Part:
    """One part of a table and what normalising it gave (the in-file key check is the loader's)."""

    table: RawTable
    result: Normalised


@dataclass(frozen=True)
class Unreadable:
    """The file cannot be used after all; the loader raises `error` inside the file's transaction."""

    error: InputFileError | ColumnDecisionsChanged


@dataclass(frozen=True)
class FileDone:
    """Closes one file's items in the stream."""


FileItem: TypeAlias = Part | TableEnd | Unreadable  # what the loader of one file consumes
StreamItem: TypeAlias = FileItem | FileDone
_ReadItem: TypeAlias = RawTable | TableEnd | Unreadable | FileDone

Job: TypeAlias = tuple[Path, str]  # (file, kind)
T = TypeVar("T")


def part_stream(
    jobs: list[Job], programs: Programs, aliases: ColumnAliases
) -> Generator[StreamItem, None, None]:
    """Every job's items, read and normalised in worker threads. Closing it stops the workers."""
    reading = ahead(_read_stream(jobs, programs, aliases, BATCH_ROWS), "ykt-read")
    return ahead(_normalised_stream(reading, programs), "ykt-normalise")


def reread_parts(
    job: Job, programs: Programs, aliases: ColumnAliases, decisions: dict[str, bool]
) -> Iterator[Part | TableEnd]:
    """One file read again with the whole file's column decisions, in the caller's thread; errors raise."""
    path, kind = job
    for item in read_batches(path, kind, aliases, programs, BATCH_ROWS, decisions):
        yield _normalised(item, programs) if isinstance(item, RawTable) else item


def file_items(stream: Iterator[StreamItem]) -> Iterator[FileItem]:
    """The items of the stream's current file (up to its FileDone)."""
    for item in stream:
        if isinstance(item, FileDone):
            return
        yield item


def drain(items: Iterator[FileItem]) -> None:
    """Skip what is left of a file that will not load (the shared stream moves on to the next file)."""
    for _ in items:
        pass


def _read_stream(
    jobs: list[Job], programs: Programs, aliases: ColumnAliases, batch_rows: int
) -> Iterator[_ReadItem]:
    for path, kind in jobs:
        try:
            yield from read_batches(path, kind, aliases, programs, batch_rows)
        except (InputFileError, ColumnDecisionsChanged) as exc:
            yield Unreadable(exc)
        yield FileDone()


def _normalised_stream(items: Iterator[_ReadItem], programs: Programs) -> Iterator[StreamItem]:
    for item in items:
        yield _normalised(item, programs) if isinstance(item, RawTable) else item


def _normalised(table: RawTable, programs: Programs) -> Part:
    return Part(table, normalise(table, programs, date1904=table.date1904, key_check=False))


@dataclass(frozen=True)
class _End:
    """The worker's last entry: the items ran out, or raised `error` (raised again in the consumer)."""

    error: BaseException | None = None


def ahead(items: Iterator[T], name: str, depth: int = PIPELINE_DEPTH) -> Generator[T, None, None]:
    """`items`, produced in a worker thread up to `depth` items ahead of the consumer. The stages
    overlap because polars and DuckDB release the GIL while they work (two cores: decoding one part
    while another is normalised and a third inserted). Closing this generator stops the worker."""
    ready: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: T | _End) -> bool:
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
                if not put(item):
                    return
            put(_End())
        except BaseException as exc:  # handed to the consumer, raised there
            put(_End(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    threading.Thread(target=work, name=name, daemon=True).start()
    try:
        while True:
            entry = ready.get()
            if isinstance(entry, _End):
                if entry.error is not None:
                    raise entry.error
                return
            yield entry
    finally:
        stop.set()
