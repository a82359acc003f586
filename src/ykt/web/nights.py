"""Nights started from the page (立即核对), and the one gate between them and the desk's readers.

A night runs in-process in a background thread through `ykt.pipeline.run_night` (the same sequence
`ykt run --engine plain` runs); its row in the portal database says `running` until it ends, and the
page polls it. DuckDB admits one writer and, inside one process, no reader with another configuration
beside it, so each county has one gate: a night holds it for its whole run, a page holds it for one short
read. A page that finds a night running (its own or another process's night lock) says 核对正在进行.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ykt.counties import County
from ykt.errors import YktError
from ykt.labels import HEALTH_STATUS_LABELS
from ykt.pipeline import NightOptions, NightResult, run_night
from ykt.warehouse import Warehouse, lock_path
from ykt.web.portal import Portal

READ_WAIT_SECONDS = 10


class NightInProgress(Exception):
    """A night holds the county's warehouse: the page says so instead of waiting."""


class Gates:
    """One lock per county: a night holds it for its run, a reader for one read."""

    def __init__(self, codes: tuple[str, ...]):
        self._locks = {code: threading.Lock() for code in codes}
        self._running: set[str] = set()

    def running(self, county: County) -> bool:
        return county.code in self._running or lock_path(county.db).exists()

    @contextmanager
    def reading(self, county: County) -> Iterator[Warehouse | None]:
        """The county's warehouse, read-only, for one read (None before its first night)."""
        if self.running(county):
            raise NightInProgress
        if not self._locks[county.code].acquire(timeout=READ_WAIT_SECONDS):
            raise NightInProgress
        try:
            if not county.db.exists():
                yield None
                return
            try:
                wh = Warehouse(county.db, read_only=True)
            except YktError:  # another process writes it (its own night, `ykt deliver`)
                raise NightInProgress from None
            try:
                yield wh
            finally:
                wh.close()
        finally:
            self._locks[county.code].release()

    def start(self, county: County, portal: Portal, login: str, as_of: dt.date, quality: bool) -> int:
        """Start the county's night in a background thread; NightInProgress when one runs already."""
        lock = self._locks[county.code]
        if self.running(county) or not lock.acquire(timeout=READ_WAIT_SECONDS):
            raise NightInProgress
        self._running.add(county.code)
        try:
            night_id = portal.add_night(county.code, login, as_of)
        except BaseException:
            self._running.discard(county.code)
            lock.release()
            raise
        options = NightOptions(
            inbox=county.inbox,
            as_of=as_of,
            db=county.db,
            out=county.out,
            programs_path=county.programs,
            uploaded_by=f"web:{login}",
            quality=quality,
        )
        worker = threading.Thread(
            target=self._run,
            args=(county, portal, night_id, options),
            name=f"night-{county.code}",
            daemon=True,
        )
        worker.start()
        return night_id

    def _run(self, county: County, portal: Portal, night_id: int, options: NightOptions) -> None:
        try:
            result = run_night(options)
            portal.finish_night(night_id, result.health.status, night_sentence(result))
        except YktError as exc:
            portal.finish_night(night_id, "failed", exc.render())
        except Exception as exc:  # the page must learn the night ended; the message names the error
            portal.finish_night(night_id, "failed", f"核对意外中断：{type(exc).__name__}: {exc}")
        finally:
            self._running.discard(county.code)
            self._locks[county.code].release()


def night_sentence(result: NightResult) -> str:
    files = result.files
    rejected = sum(1 for f in files if f.status == "rejected")
    loaded = sum(1 for f in files if f.status == "loaded")
    text = (
        f"核对基准日 {result.as_of}：处理文件 {len(files)} 个（新载入 {loaded} 个，整份拒收 {rejected} 个，"
        f"拒收行 {sum(f.rows_rejected for f in files)} 行）；发现问题 {sum(result.rule_counts.values())} 条；"
        f"结果：{HEALTH_STATUS_LABELS.get(result.health.status, result.health.status)}"
    )
    reasons = "；".join(r.message for r in result.health.reasons[:5])
    return text + (f"。需关注：{reasons}" if reasons else "")
