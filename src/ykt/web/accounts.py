"""Accounts: argon2 password hashes, session tokens, CSRF tokens, login throttling, and the
`ykt user add/disable/passwd` commands' work. No default account and no default password: the first
admin is created on the command line."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ykt.counties import Counties
from ykt.errors import UsageError
from ykt.web.portal import PORTAL_FILE, Portal, User

ROLES = ("clerk", "inspector", "admin")
MIN_PASSWORD = 10
LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{2,40}$")
SESSION_LIFETIME = dt.timedelta(hours=8)  # one working day
THROTTLE_FAILURES = 5  # failures of one login from one address …
THROTTLE_WINDOW = dt.timedelta(minutes=15)  # … within this window lock that pair out

_HASHER = PasswordHasher()
# Verified when the login is unknown, so an unknown login costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


def portal_path(counties: Counties) -> Path:
    """The portal database lives beside counties.yaml."""
    return Path(counties.source).resolve().parent / PORTAL_FILE


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    try:
        return _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Sessions are stored by the hash of their token: a copy of the portal file opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def throttled(portal: Portal, login: str, ip: str) -> bool:
    since = dt.datetime.now() - THROTTLE_WINDOW
    return portal.failures_since(login, ip, since) >= THROTTLE_FAILURES


# -- the command line: ykt user add / disable / passwd ---------------------------------------------


def _checked_password(password: str) -> str:
    password = password.rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise UsageError(
            f"密码太短：至少 {MIN_PASSWORD} 个字符",
            hint="从标准输入提供密码，如：printf '%s' '足够长的密码' | ykt user add …",
        )
    return password


def add_user(
    counties: Counties,
    login: str,
    role: str,
    county_codes: Sequence[str],
    password: str,
    *,
    full_ids: bool = False,
) -> User:
    if not LOGIN_PATTERN.match(login):
        raise UsageError(
            f"用户名“{login}”不合规", hint="用 2–40 个字母、数字、点、下划线或连字符，如 zhang.san"
        )
    if role not in ROLES:
        raise UsageError(f"角色“{role}”不存在", hint=f"可用角色：{'、'.join(ROLES)}")
    for code in county_codes:
        counties.by_code(code)  # ConfigError naming the codes available
    if not county_codes:
        raise UsageError("至少用 --county 指定一个县", hint=f"可用：{'、'.join(counties.codes)}")
    portal = Portal(portal_path(counties))
    try:
        if portal.user(login) is not None:
            raise UsageError(f"用户“{login}”已存在", hint="改密码用 ykt user passwd；停用用 ykt user disable")
        portal.add_user(login, hash_password(_checked_password(password)), role, county_codes, full_ids)
        portal.audit("cli", "user_add", f"{login} {role} {','.join(county_codes)}")
        user = portal.user(login)
    finally:
        portal.close()
    assert user is not None
    return user


def _existing(portal: Portal, login: str) -> User:
    user = portal.user(login)
    if user is None:
        raise UsageError(f"用户“{login}”不存在", hint="新建用户用 ykt user add")
    return user


def set_password(counties: Counties, login: str, password: str) -> None:
    portal = Portal(portal_path(counties))
    try:
        _existing(portal, login)
        portal.set_password(login, hash_password(_checked_password(password)))
        portal.audit("cli", "user_passwd", login)
    finally:
        portal.close()


def disable_user(counties: Counties, login: str) -> None:
    portal = Portal(portal_path(counties))
    try:
        _existing(portal, login)
        portal.disable_user(login)
        portal.audit("cli", "user_disable", login)
    finally:
        portal.close()
