"""Delivery of complaint cases to the 小微权力“监督一点通” platform.

`ykt.cases.lifecycle.update_cases` writes one `outbox` row per complaint-case state change, in the
same transaction as the change, so nothing is lost while the platform is down. `deliver`
posts the undelivered rows, oldest event first, each as the JSON object of a cases.jsonl
line, with `Idempotency-Key: case_id:status:event-date`:

- 2xx → delivered; 409 → the platform already has this key (an earlier answer was lost): delivered;
- connection errors, timeouts, 5xx, 408 and 429 → retried with exponential back-off; when one row
  still fails after `max_attempts`, the platform is taken as down and the run stops: the rest
  stays in the outbox for the next night;
- any other 4xx → a permanent failure recorded on the row (`rejected_at`, `http_status`,
  `last_error`), not retried until a person clears `rejected_at`.

Delivered rows are never sent again. Clues never leave the warehouse: only rows of cases whose
route is `complaint` are read. The bearer token is put on the request and nowhere else: it is
not logged, not stored, and redacted from any error text the platform might echo.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ykt.errors import DeliveryError, UsageError
from ykt.warehouse import Warehouse

log = logging.getLogger("ykt.deliver.platform")

TOKEN_ENV = "YKT_PLATFORM_TOKEN"
RETRYABLE_STATUSES = frozenset({408, 429})
ALREADY_RECEIVED = 409
_ERROR_BODY_CHARS = 300

_PENDING_SQL = """
select o.idempotency_key, o.case_id, o.status, o.payload
from outbox o
join cases c using (case_id)
where c.route = 'complaint' and o.delivered_at is null and o.rejected_at is null
order by o.on_date, o.created_at, o.idempotency_key
"""

_RECORD_SQL = """
update outbox
set attempts = attempts + $attempts,
    http_status = $http_status,
    last_error = $error,
    last_attempt_at = current_timestamp::timestamp,
    delivered_at = case when $delivered then current_timestamp::timestamp else delivered_at end,
    rejected_at = case when $rejected then current_timestamp::timestamp end
where idempotency_key = $key
"""


@dataclass(frozen=True)
class Outcome:
    """What happened to one outbox row in this run."""

    verdict: str  # delivered | already_received | rejected | unreachable
    attempts: int
    http_status: int | None
    error: str | None


@dataclass(frozen=True)
class DeliveryResult:
    delivered: int  # accepted by the platform in this run (2xx)
    already_received: int  # the platform already had the key (409): counted as delivered
    rejected: int  # permanent failures (4xx) in this run, left on their outbox rows
    pending: int  # still waiting in the outbox (platform unreachable): retried next night
    requests: int  # HTTP requests made

    def __str__(self) -> str:
        text = (
            f"推送完成：新送达 {self.delivered} 件，平台已有 {self.already_received} 件，"
            f"被平台拒收 {self.rejected} 件，待下次重试 {self.pending} 件（共请求 {self.requests} 次）"
        )
        return text

    @property
    def complete(self) -> bool:
        """Nothing stays in the outbox after this run (no row pending, none refused)."""
        return not (self.pending or self.rejected)

    def check(self) -> DeliveryResult:
        """For `ykt deliver`: raise when something was not delivered, so the exit code says so."""
        if not self.complete:
            raise DeliveryError(
                str(self),
                hint="待重试的案件保留在 outbox 表中，下次运行会自动重发；被拒收的案件请查看 outbox.last_error，"
                "修正后将该行 rejected_at 置空即可重发",
            )
        return self


def platform_token(environ: dict[str, str] | None = None) -> str | None:
    """The bearer token from YKT_PLATFORM_TOKEN (empty means none)."""
    value = (environ if environ is not None else os.environ).get(TOKEN_ENV, "")
    return value or None


def deliver(
    wh: Warehouse,
    endpoint: str,
    token: str | None,
    *,
    timeout: float = 10,
    max_attempts: int = 5,
    backoff: float = 0.5,
    allow_http: bool = False,
) -> DeliveryResult:
    """Post every undelivered complaint-case change in the outbox to `endpoint`, oldest first."""
    check_endpoint(endpoint, allow_http, max_attempts)
    counts = {"delivered": 0, "already_received": 0, "rejected": 0}
    requests = 0
    for key, case_id, status, payload in wh.rows("delivery.pending", _PENDING_SQL):
        outcome = post_with_retries(
            endpoint,
            key,
            token,
            payload.encode("utf-8"),
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
        )
        requests += outcome.attempts
        _record(wh, key, outcome)
        if outcome.verdict == "unreachable":
            log.error(
                "平台无法访问，停止本次推送：%s（%s）；其余案件留在待推送队列，下次重试", outcome.error, key
            )
            break
        counts[outcome.verdict] += 1
        log.info("案件 %s（%s）推送结果：%s", case_id, status, outcome.verdict)
    pending = wh.scalar("delivery.pending count", f"select count(*) from ({_PENDING_SQL})")
    return DeliveryResult(requests=requests, pending=int(pending), **counts)


def check_endpoint(endpoint: str, allow_http: bool = False, max_attempts: int = 1) -> None:
    """The token travels with every request: plain http only to this machine, or to an intranet address
    someone explicitly allowed (with a warning in the log)."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"平台地址无效：{endpoint!r}", hint="--endpoint 应为 https:// 开头的完整地址")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        if not allow_http:
            raise UsageError(
                f"平台地址不是 https：{parts.hostname} 会以明文收到令牌和案件内容",
                hint="请使用 https:// 地址；若平台确在县内网且只提供 http，加 --allow-http",
            )
        log.warning("以明文 http 推送到 %s（已用 --allow-http 允许）：令牌与案件内容未加密", parts.hostname)
    if max_attempts < 1:
        raise UsageError(f"max_attempts 应至少为 1，实际为 {max_attempts}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _headers(key: str, token: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "application/json",
        "Idempotency-Key": key,
        "User-Agent": "ykt-recon",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def post_with_retries(
    endpoint: str,
    key: str,
    token: str | None,
    body: bytes,
    *,
    timeout: float,
    max_attempts: int,
    backoff: float,
) -> Outcome:
    """One outbox row: retry transient failures with exponential back-off (backoff, 2×, 4×…).
    Error texts are redacted here, before anything logs or stores them."""
    headers = _headers(key, token)
    status, error = None, None
    for attempt in range(1, max_attempts + 1):
        status, raw_error = _post_once(endpoint, headers, body, timeout)
        error = _redact(raw_error, token)
        verdict = _verdict(status)
        if verdict != "retry":
            return Outcome(verdict, attempt, status, error)
        log.warning("推送 %s 第 %d 次失败：%s", key, attempt, error)
        if attempt < max_attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    return Outcome("unreachable", max_attempts, status, error)


def _verdict(status: int | None) -> str:
    if status is None or status >= 500 or status in RETRYABLE_STATUSES:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    if status == ALREADY_RECEIVED:
        return "already_received"
    return "rejected"


def _post_once(
    endpoint: str, headers: dict[str, str], body: bytes, timeout: float
) -> tuple[int | None, str | None]:
    """(HTTP status, error text); status None when no HTTP answer came back at all."""
    request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status, None
    except urllib.error.HTTPError as exc:
        with exc:
            answer = exc.read(_ERROR_BODY_CHARS).decode("utf-8", "replace")
        return exc.code, f"HTTP {exc.code} {exc.reason}：{answer}".strip()
    except TimeoutError:
        return None, f"平台在 {timeout} 秒内无应答（超时）"
    except urllib.error.URLError as exc:
        return None, _network_error(exc.reason, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return None, _network_error(exc, timeout)


def _network_error(reason: object, timeout: float) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"平台在 {timeout} 秒内无应答（超时）"
    if isinstance(reason, ConnectionResetError):
        return "连接被平台重置"
    if isinstance(reason, ConnectionRefusedError):
        return "平台拒绝连接（服务未启动或地址错误）"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "平台未应答即断开连接"
    return f"无法连接平台：{type(reason).__name__}: {reason}"


def _redact(text: str | None, token: str | None) -> str | None:
    if text is None or not token:
        return text
    return text.replace(token, "***")


def _record(wh: Warehouse, key: str, outcome: Outcome) -> None:
    """Written per row, at once: a crash half-way keeps what was already delivered."""
    wh.execute(
        "delivery.record",
        _RECORD_SQL,
        {
            "key": key,
            "attempts": outcome.attempts,
            "http_status": outcome.http_status,
            "error": outcome.error,
            "delivered": outcome.verdict in ("delivered", "already_received"),
            "rejected": outcome.verdict == "rejected",
        },
    )
