"""The night's notification: a night that failed or needs attention tells IT through a webhook.

`--notify-url URL` (or the environment's YKT_NOTIFY_URL) names the webhook. After a night whose health is
`attention` or `failed`, and after a night that stopped on an error, one JSON object is POSTed there:

    {"county": "安和县" | null, "as_of": "2024-09-12", "run_id": "…" | null,
     "health": "attention" | "failed", "exit_code": 3,
     "reasons": [{"code": "COVERAGE_GAP", "message": "…", …}],
     "links": {"run.json": "/srv/ykt/out/run.json", "exceptions.xlsx": "…"}}

A healthy night posts nothing. Transient failures (no answer, 5xx, 408, 429) are retried with back-off
like the platform's deliveries; a webhook that stays down is logged and never changes the night's exit
code: the night's result is in its reports either way. The reasons are the masked health reasons the
reports carry: no ID or card number leaves in a notification.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ykt.deliver.platform import check_endpoint, post_with_retries

log = logging.getLogger("ykt.deliver.notify")

NOTIFY_URL_ENV = "YKT_NOTIFY_URL"
NOTIFY_STATUSES = frozenset({"attention", "failed"})


@dataclass(frozen=True)
class NightNotice:
    """What a webhook receives about one night (see the module docstring)."""

    as_of: str
    health: str  # attention | failed
    exit_code: int
    reasons: Sequence[Mapping[str, str]]
    county: str | None = None
    run_id: str | None = None
    links: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> bytes:
        body: dict[str, Any] = {
            "county": self.county,
            "as_of": self.as_of,
            "run_id": self.run_id,
            "health": self.health,
            "exit_code": self.exit_code,
            "reasons": [dict(r) for r in self.reasons],
            "links": dict(self.links),
        }
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    @property
    def key(self) -> str:
        """Idempotency key: one notice per run (a retried post is recognised by the receiver)."""
        county = urllib.parse.quote(
            self.county or "-"
        )  # a header is latin-1: the county's name percent-encoded
        return f"ykt-night:{county}:{self.run_id or self.as_of}:{self.health}"


def notify_url(given: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The webhook: the flag, else YKT_NOTIFY_URL; None when neither is set."""
    if given:
        return given
    return (environ if environ is not None else os.environ).get(NOTIFY_URL_ENV, "").strip() or None


def check_notify_url(url: str | None, allow_http: bool = False) -> None:
    """Checked before the night's work, like the platform's endpoint: https, or http to this machine."""
    if url:
        check_endpoint(url, allow_http)


def notify_night(
    url: str | None,
    notice: NightNotice,
    *,
    allow_http: bool = False,
    timeout: float = 10,
    max_attempts: int = 3,
    backoff: float = 1.0,
) -> bool:
    """POST the notice when the night needs someone; True when the webhook took it (or none was due)."""
    if not url or notice.health not in NOTIFY_STATUSES:
        return True
    check_endpoint(url, allow_http, max_attempts)
    outcome = post_with_retries(
        url, notice.key, None, notice.as_json(), timeout=timeout, max_attempts=max_attempts, backoff=backoff
    )
    if outcome.verdict in ("delivered", "already_received"):
        log.info("已通知 %s：%s 的核对状态为 %s", url, notice.as_of, notice.health)
        return True
    log.error(
        "通知发送失败（%s）：%s；核对结果仍在报告中，请检查通知地址 %s", outcome.verdict, outcome.error, url
    )
    return False
