"""The night's lock: one `ykt run` per warehouse, taken before any work (issue 14).

DuckDB's own file lock already refuses a second process, but only once the warehouse is opened and
without saying which run holds it. The night lock is a file beside the warehouse, `<db>.lock`, created
atomically (O_CREAT | O_EXCL) and holding one JSON object:

    {"pid": 4242, "started_at": "2024-09-12T01:00:03", "host": "county-server"}

It is removed when the night ends, however it ends. A lock left by a process that no longer runs on
this host (a killed night) is stale and taken over; a lock written on another host is never taken
over (its pid means nothing here).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ykt.errors import WarehouseError


def lock_path(db: Path) -> Path:
    return Path(f"{db}.lock")


@contextmanager
def night_lock(db: Path) -> Iterator[Path]:
    """Hold `<db>.lock` for the duration of the block; WarehouseError (exit 2) when another run holds it."""
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"pid": os.getpid(), "started_at": dt.datetime.now().isoformat(timespec="seconds")}
    body["host"] = socket.gethostname()
    if not _create(path, body):
        holder = _read(path)
        if _alive(holder):
            raise _held(path, holder)
        path.unlink(missing_ok=True)  # stale: its process is gone
        if not _create(path, body):  # another run took it over first
            raise _held(path, _read(path))
    try:
        yield path
    finally:
        if _read(path).get("pid") == os.getpid():
            path.unlink(missing_ok=True)


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


def _held(path: Path, holder: dict[str, Any]) -> WarehouseError:
    pid = holder.get("pid", "未知")
    started = holder.get("started_at", "未知")
    host = holder.get("host")
    where = f"{path}（主机 {host}）" if host and host != socket.gethostname() else str(path)
    return WarehouseError(
        f"另一个核对任务正在运行（pid {pid}，开始于 {started}）",
        where=where,
        hint="等该任务结束后再运行；若确认该进程已不存在（例如在另一台机器上运行后中断），删除这个锁文件后重新运行",
    )
