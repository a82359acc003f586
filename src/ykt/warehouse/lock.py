"""The night's lock: one `ykt run` per warehouse, taken before any work (issue 14).

DuckDB's own file lock already refuses a second process, but only once the warehouse is opened and
without saying which run holds it. The night lock is a file beside the warehouse, `<db>.lock`, created
atomically (O_CREAT | O_EXCL) and holding one JSON object:

    {"pid": 4242, "started_at": "2024-09-12T01:00:03", "host": "county-server"}

It is removed when the night ends, however it ends. A lock left by a process that no longer runs on
this host (a killed night) is stale and taken over; a lock written on another host is never taken
over (its pid means nothing here).

A night that finds the lock held waits a bounded time for it (`wait_seconds`: `--lock-wait`, or the
environment's YKT_LOCK_WAIT, default 60 s) and then stops with exit 2: two nights scheduled close together
queue up instead of failing, and a night stuck for hours never makes the next one hang with it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ykt.errors import UsageError, WarehouseError

LOCK_WAIT_ENV = "YKT_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 60.0
_POLL_SECONDS = 0.5


def lock_path(db: Path) -> Path:
    return Path(f"{db}.lock")


def lock_wait_seconds(given: float | None = None, environ: dict[str, str] | None = None) -> float:
    """The bounded wait for a held lock: the flag, else YKT_LOCK_WAIT, else 60 s."""
    if given is not None:
        return max(0.0, given)
    text = (environ if environ is not None else os.environ).get(LOCK_WAIT_ENV, "").strip()
    try:
        return max(0.0, float(text)) if text else DEFAULT_LOCK_WAIT
    except ValueError:
        raise UsageError(
            f"环境变量 {LOCK_WAIT_ENV} 应为秒数，实际为 {text!r}",
            hint=f"例如 {LOCK_WAIT_ENV}=60；0 表示不等待",
        ) from None


@contextmanager
def night_lock(db: Path, wait_seconds: float | None = None) -> Iterator[Path]:
    """Hold `<db>.lock` for the duration of the block. While another live run holds it, wait up to
    `wait_seconds` (see `lock_wait_seconds`), then WarehouseError (exit 2) naming that run."""
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"pid": os.getpid(), "started_at": dt.datetime.now().isoformat(timespec="seconds")}
    body["host"] = socket.gethostname()
    wait = lock_wait_seconds(wait_seconds)
    deadline = time.monotonic() + wait
    while not _take(path, body):
        if time.monotonic() >= deadline:
            raise _held(path, _read(path), wait)
        time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    try:
        yield path
    finally:
        if _read(path).get("pid") == os.getpid():
            path.unlink(missing_ok=True)


def _take(path: Path, body: dict[str, Any]) -> bool:
    """Create the lock, taking over a stale one (its process gone); False while a live run holds it."""
    if _create(path, body):
        return True
    holder = _read(path)
    if _alive(holder) or (not holder and _just_created(path)):
        return False
    path.unlink(missing_ok=True)  # stale: its process is gone
    return _create(path, body)  # False when another run took it over first


def _create(path: Path, body: dict[str, Any]) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(body, ensure_ascii=False))
    return True


def _read(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # gone, or half-written by a process killed while writing it
    return body if isinstance(body, dict) else {}


def _just_created(path: Path) -> bool:
    """An empty lock file younger than a few seconds is another run between creating and writing it."""
    try:
        return time.time() - path.stat().st_mtime < 5
    except OSError:
        return False


def _alive(holder: dict[str, Any]) -> bool:
    """Whether the lock's process still runs (a lock from another host counts as alive)."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if holder.get("host") not in (None, socket.gethostname()):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _held(path: Path, holder: dict[str, Any], waited: float) -> WarehouseError:
    pid = holder.get("pid", "未知")
    started = holder.get("started_at", "未知")
    host = holder.get("host")
    where = f"{path}（主机 {host}）" if host and host != socket.gethostname() else str(path)
    return WarehouseError(
        f"另一个核对任务正在运行（pid {pid}，开始于 {started}）",
        where=where,
        hint=f"已等待 {waited:g} 秒仍未结束。等该任务结束后再运行（或用 --lock-wait 秒数 等得更久）；若确认该进程已不存在（例如在另一台机器上运行后中断），删除这个锁文件后重新运行",
    )
