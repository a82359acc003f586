"""The service's settings read from flags and the environment: the lock's bounded wait and the webhook."""

from __future__ import annotations

import pytest

from ykt.deliver import NightNotice, notify_url
from ykt.errors import UsageError
from ykt.warehouse.lock import DEFAULT_LOCK_WAIT, lock_wait_seconds


def test_lock_wait_comes_from_the_flag_then_the_environment_then_60_seconds():
    assert lock_wait_seconds(5, {"YKT_LOCK_WAIT": "30"}) == 5
    assert lock_wait_seconds(None, {"YKT_LOCK_WAIT": "30"}) == 30
    assert lock_wait_seconds(None, {}) == DEFAULT_LOCK_WAIT == 60
    assert lock_wait_seconds(-3, {}) == 0
    with pytest.raises(UsageError, match="YKT_LOCK_WAIT"):
        lock_wait_seconds(None, {"YKT_LOCK_WAIT": "一分钟"})


def test_the_webhook_comes_from_the_flag_then_the_environment():
    assert notify_url("https://a/hook", {"YKT_NOTIFY_URL": "https://b/hook"}) == "https://a/hook"
    assert notify_url(None, {"YKT_NOTIFY_URL": " https://b/hook "}) == "https://b/hook"
    assert notify_url(None, {}) is None


def test_a_notice_key_is_a_valid_http_header_for_a_chinese_county_name():
    """HTTP headers are latin-1: the county's name travels percent-encoded in the idempotency key."""
    notice = NightNotice(as_of="2024-09-12", health="attention", exit_code=3, reasons=[], county="安和县")
    notice.key.encode("latin-1")
    assert '"county": "安和县"' in notice.as_json().decode("utf-8")
