"""The portal database: users, sessions, login failures, uploads, nights started and the audit log.

SQLite (stdlib sqlite3) in one file beside counties.yaml (`portal.sqlite3`, readable by its owner
only). This module is the ONLY code of ykt.web that executes SQL on it, always with bound parameters
(the project rule "exactly one module executes SQL" is about the warehouse's DuckDB, ykt.warehouse;
the portal's few statements live here in the same spirit). One connection guarded by a lock: the
server's worker threads share it, and SQLite serialises writers anyway.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PORTAL_FILE = "portal.sqlite3"

_SCHEMA = """
create table if not exists users (
    login text primary key,
    password_hash text not null,
    role text not null,
    full_ids integer not null default 0,
    disabled integer not null default 0,
    created_at text not null
);
create table if not exists user_counties (
    login text not null references users (login),
    county text not null,
    primary key (login, county)
);
create table if not exists sessions (
    token_hash text primary key,
    login text not null references users (login),
    csrf text not null,
    created_at text not null,
    expires_at text not null
);
create table if not exists login_failures (
    login text not null,
    ip text not null,
    at text not null
);
create table if not exists uploads (
    id integer primary key autoincrement,
    county text not null,
    login text not null,
    at text not null,
    file_name text not null,
    file_hash text not null,
    suffix text not null,
    kind text,
    program text,
    period text,
    status text not null,
    rows_read integer not null default 0,
    rows_rejected integer not null default 0,
    message text
);
create table if not exists nights (
    id integer primary key autoincrement,
    county text not null,
    login text not null,
    as_of text not null,
    started_at text not null,
    finished_at text,
    status text not null,
    message text
);
create table if not exists audit (
    id integer primary key autoincrement,
    at text not null,
    login text not null,
    county text,
    action text not null,
    detail text,
    ip text
);
"""


@dataclass(frozen=True)
class User:
    login: str
    password_hash: str
    role: str  # clerk | inspector | admin
    counties: tuple[str, ...]
    full_ids: bool  # may see full ID and card numbers (admins always may)
    disabled: bool

    @property
    def may_see_full_ids(self) -> bool:
        return self.role == "admin" or self.full_ids


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


@dataclass(frozen=True)
class Upload:
    id: int
    county: str
    login: str
    at: str
    file_name: str
    file_hash: str
    suffix: str
    kind: str | None
    program: str | None
    period: str | None
    status: str  # checked | problems | refused | accepted | duplicate
    rows_read: int
    rows_rejected: int
    message: str | None


@dataclass(frozen=True)
class Night:
    id: int
    county: str
    login: str
    as_of: str
    started_at: str
    finished_at: str | None
    status: str  # running | ok | attention | failed
    message: str | None


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class Portal:
    """The portal database file; every statement the web desk runs on it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # created owner-only: it holds password hashes and the audit log
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.path.chmod(0o600)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._con.execute("pragma foreign_keys = on")
        self._con.execute("pragma busy_timeout = 5000")
        self._con.executescript(_SCHEMA)

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._con.execute("begin immediate")
            try:
                yield self._con
            except BaseException:
                self._con.execute("rollback")
                raise
            self._con.execute("commit")

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    # -- users ---------------------------------------------------------------------------------------
    def user(self, login: str) -> User | None:
        rows = self._all(
            "select login, password_hash, role, full_ids, disabled from users where login = ?", (login,)
        )
        if not rows:
            return None
        counties = self._all("select county from user_counties where login = ? order by county", (login,))
        name, password_hash, role, full_ids, disabled = rows[0]
        return User(name, password_hash, role, tuple(c for (c,) in counties), bool(full_ids), bool(disabled))

    def add_user(
        self, login: str, password_hash: str, role: str, counties: Sequence[str], full_ids: bool
    ) -> None:
        with self._tx() as con:
            con.execute(
                "insert into users (login, password_hash, role, full_ids, created_at) values (?, ?, ?, ?, ?)",
                (login, password_hash, role, int(full_ids), _now()),
            )
            con.executemany(
                "insert into user_counties (login, county) values (?, ?)", [(login, c) for c in counties]
            )

    def set_password(self, login: str, password_hash: str) -> None:
        with self._tx() as con:
            con.execute("update users set password_hash = ? where login = ?", (password_hash, login))
            con.execute("delete from sessions where login = ?", (login,))

    def disable_user(self, login: str) -> None:
        with self._tx() as con:
            con.execute("update users set disabled = 1 where login = ?", (login,))
            con.execute("delete from sessions where login = ?", (login,))

    # -- sessions ------------------------------------------------------------------------------------
    def add_session(self, token_hash: str, login: str, csrf: str, lifetime: dt.timedelta) -> None:
        now = dt.datetime.now()
        with self._tx() as con:
            con.execute("delete from sessions where expires_at < ?", (now.isoformat(),))
            con.execute(
                "insert into sessions (token_hash, login, csrf, created_at, expires_at) values (?, ?, ?, ?, ?)",
                (token_hash, login, csrf, now.isoformat(), (now + lifetime).isoformat()),
            )

    def session(self, token_hash: str) -> Session | None:
        rows = self._all(
            "select login, csrf from sessions where token_hash = ? and expires_at > ?",
            (token_hash, dt.datetime.now().isoformat()),
        )
        user = self.user(rows[0][0]) if rows else None
        if user is None or user.disabled:
            return None
        return Session(user, rows[0][1])

    def end_session(self, token_hash: str) -> None:
        with self._tx() as con:
            con.execute("delete from sessions where token_hash = ?", (token_hash,))

    # -- login throttling ----------------------------------------------------------------------------
    def add_failure(self, login: str, ip: str) -> None:
        with self._tx() as con:
            con.execute("insert into login_failures (login, ip, at) values (?, ?, ?)", (login, ip, _now()))

    def failures_since(self, login: str, ip: str, since: dt.datetime) -> int:
        rows = self._all(
            "select count(*) from login_failures where login = ? and ip = ? and at >= ?",
            (login, ip, since.isoformat(timespec="seconds")),
        )
        return int(rows[0][0])

    def clear_failures(self, login: str, ip: str) -> None:
        with self._tx() as con:
            con.execute("delete from login_failures where login = ? and ip = ?", (login, ip))

    # -- uploads -------------------------------------------------------------------------------------
    _UPLOAD_COLUMNS = (
        "id, county, login, at, file_name, file_hash, suffix, kind, program, period, status, "
        "rows_read, rows_rejected, message"
    )

    def add_upload(self, county: str, login: str, file_name: str, file_hash: str, suffix: str) -> int:
        with self._tx() as con:
            cursor = con.execute(
                "insert into uploads (county, login, at, file_name, file_hash, suffix, status) "
                "values (?, ?, ?, ?, ?, ?, 'received')",
                (county, login, _now(), file_name, file_hash, suffix),
            )
            return int(cursor.lastrowid or 0)

    def update_upload(self, upload_id: int, **values: Any) -> None:
        allowed = {"kind", "program", "period", "status", "rows_read", "rows_rejected", "message"}
        names = sorted(values)
        if not set(names) <= allowed:  # column names come from this code, never from a request
            raise ValueError(f"unknown upload fields: {set(names) - allowed}")
        assignments = ", ".join(f"{name} = ?" for name in names)
        with self._tx() as con:
            con.execute(
                f"update uploads set {assignments} where id = ?", [*(values[n] for n in names), upload_id]
            )

    def upload(self, county: str, upload_id: int) -> Upload | None:
        """One upload of one county: an id from a URL finds nothing of another county."""
        rows = self._all(
            f"select {self._UPLOAD_COLUMNS} from uploads where county = ? and id = ?", (county, upload_id)
        )
        return Upload(*rows[0]) if rows else None

    def uploads(self, county: str, limit: int = 200) -> list[Upload]:
        rows = self._all(
            f"select {self._UPLOAD_COLUMNS} from uploads where county = ? order by id desc limit ?",
            (county, limit),
        )
        return [Upload(*row) for row in rows]

    def accepted_upload(self, county: str, file_hash: str) -> Upload | None:
        rows = self._all(
            f"select {self._UPLOAD_COLUMNS} from uploads "
            "where county = ? and file_hash = ? and status = 'accepted' order by id limit 1",
            (county, file_hash),
        )
        return Upload(*rows[0]) if rows else None

    # -- nights --------------------------------------------------------------------------------------
    def add_night(self, county: str, login: str, as_of: dt.date) -> int:
        with self._tx() as con:
            cursor = con.execute(
                "insert into nights (county, login, as_of, started_at, status) values (?, ?, ?, ?, 'running')",
                (county, login, as_of.isoformat(), _now()),
            )
            return int(cursor.lastrowid or 0)

    def finish_night(self, night_id: int, status: str, message: str) -> None:
        with self._tx() as con:
            con.execute(
                "update nights set status = ?, message = ?, finished_at = ? where id = ?",
                (status, message, _now(), night_id),
            )

    def night(self, county: str, night_id: int) -> Night | None:
        rows = self._all(
            "select id, county, login, as_of, started_at, finished_at, status, message "
            "from nights where county = ? and id = ?",
            (county, night_id),
        )
        return Night(*rows[0]) if rows else None

    def nights(self, county: str, limit: int = 10) -> list[Night]:
        rows = self._all(
            "select id, county, login, as_of, started_at, finished_at, status, message "
            "from nights where county = ? order by id desc limit ?",
            (county, limit),
        )
        return [Night(*row) for row in rows]

    def abandon_running_nights(self) -> None:
        """Nights a stopped server left `running` ended with it."""
        with self._tx() as con:
            con.execute(
                "update nights set status = 'failed', message = '服务重启，核对中断；请重新点击立即核对', "
                "finished_at = ? where status = 'running'",
                (_now(),),
            )

    def abandon_checking(self) -> None:
        """Checks a stopped server left unfinished ended with it."""
        with self._tx() as con:
            con.execute(
                "update uploads set status = 'refused', message = '服务重启，检查中断；请重新上传该文件' "
                "where status = 'checking'"
            )

    # -- audit ---------------------------------------------------------------------------------------
    def audit(
        self, login: str, action: str, detail: str = "", county: str | None = None, ip: str = ""
    ) -> None:
        with self._tx() as con:
            con.execute(
                "insert into audit (at, login, county, action, detail, ip) values (?, ?, ?, ?, ?, ?)",
                (_now(), login, county, action, detail, ip),
            )

    def audit_rows(self, action: str | None = None) -> list[tuple[Any, ...]]:
        if action is None:
            return self._all("select at, login, county, action, detail, ip from audit order by id")
        return self._all(
            "select at, login, county, action, detail, ip from audit where action = ? order by id", (action,)
        )
