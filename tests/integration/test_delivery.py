"""Delivery of complaint cases to the platform, against a REAL local HTTP server.

`FlakyPlatform` is an http.server on 127.0.0.1 (port 0) in a thread. Each request takes the
next action of its scripted plan: "reset" (connection reset after reading the request),
"sleep" (accept, then answer too late for the client's timeout), an HTTP status to return,
or "ok" (accept, 201). Like the real platform it answers 409 to an idempotency key it has
already accepted. The outbox is filled by `update_cases` from hand-written findings.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest

from ykt.cases import case_json_lines, update_cases
from ykt.config import load_programs
from ykt.deliver.platform import deliver, platform_token
from ykt.detect import load_registry
from ykt.errors import DeliveryError
from ykt.warehouse.connection import Warehouse

TOKEN = "tok-SECRET-7f3a9c21"
NIGHT_1 = dt.date(2024, 9, 12)
PROGRAMS = load_programs()
REGISTRY = load_registry()
FAST = {"timeout": 0.2, "backoff": 0.01}


@dataclass(frozen=True)
class Received:
    action: object
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")

    @property
    def case(self) -> dict:
        return json.loads(self.body)


class FlakyPlatform:
    def __init__(self, plan=(), sleep: float = 0.6):
        self.plan = list(plan)
        self.sleep = sleep
        self.received: list[Received] = []
        self.accepted: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # resets and late answers are on purpose
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/cases"

    def __enter__(self) -> FlakyPlatform:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next_action(self, key: str, headers: dict, body: bytes):
        with self.lock:
            action = self.plan.pop(0) if self.plan else "ok"
            if action == "ok" and key in self.accepted:
                action = 409
            if action in ("ok", "sleep"):
                self.accepted.setdefault(key, body)
            self.received.append(Received(action, headers, body, time.monotonic()))
            return action

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                action = platform._next_action(headers.get("idempotency-key", ""), headers, body)
                if action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                if action == "sleep":
                    time.sleep(platform.sleep)
                    action = "ok"
                if action == "echo":  # a careless platform that echoes the request headers in its error
                    self._answer(400, json.dumps(headers).encode())
                else:
                    self._answer(201 if action == "ok" else int(action), b'{"ok": true}')

            def _answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def finding(as_of, **fields) -> dict:
    row = {
        "as_of": as_of,
        "route": "complaint",
        "card_number": None,
        "group_name": None,
        "amount_paid": None,
        "paid_date": None,
        "detail": None,
        "days_overdue": 10,
        "due_date": dt.date(2024, 8, 31),
    }
    row.update(fields)
    return row


def night_findings(as_of: dt.date) -> list[dict]:
    """Two complaint cases (the seed's 200 元 farm subsidy and the child's failed 1350 元 allowance)
    and one clue (a shared card) that must never reach the platform."""
    return [
        finding(
            as_of,
            rule="MISSING",
            case_id="YKT-FARM",
            program_code="NONGJI",
            period="2024-08",
            id_number="51072319500101123X",
            name="李安成",
            township="凤灵街道",
            village="万安社区",
            amount_due=Decimal("200.00"),
        ),
        finding(
            as_of,
            rule="FAILED_NOT_REISSUED",
            case_id="YKT-CHILD",
            program_code="CHILD",
            period="2024-08",
            id_number="510124201501010012",
            name="黄小明",
            township="唐昌镇",
            village="永安村",
            amount_due=Decimal("1350.00"),
        ),
        finding(
            as_of,
            rule="SHARED_ACCOUNT",
            route="clue",
            case_id="YKT-CLUE",
            program_code="DIBAO",
            period="2024-08",
            id_number="360426199101010071",
            name="王芳",
            card_number="6217000011111234",
            amount_paid=Decimal("500.00"),
            paid_date=dt.date(2024, 8, 10),
            township="唐昌镇",
            village="永安村",
        ),
    ]


def run_night(wh: Warehouse, as_of: dt.date) -> None:
    wh.execute("test.clear", "delete from findings where as_of = $as_of", {"as_of": as_of})
    wh.insert_frame(
        "findings",
        pl.DataFrame(night_findings(as_of)).with_columns(
            pl.col("amount_due", "amount_paid").cast(pl.Decimal(18, 2))
        ),
    )
    update_cases(wh, PROGRAMS, REGISTRY, as_of, f"run-{as_of}")


def outbox(wh: Warehouse) -> dict[str, dict]:
    frame = wh.frame("test.outbox", "select * from outbox order by on_date, idempotency_key")
    return {row["idempotency_key"]: row for row in frame.to_dicts()}


@pytest.fixture
def wh():
    with Warehouse(":memory:") as warehouse:
        run_night(warehouse, NIGHT_1)
        yield warehouse


EXPECTED_KEYS = ["YKT-CHILD:open:2024-09-12", "YKT-FARM:open:2024-09-12"]


def test_posts_each_change_once_with_token_and_idempotency_key(wh):
    """Both complaint cases arrive once, as the cases.jsonl object, with the bearer token and
    their idempotency key; the clue never arrives; a second run sends nothing; the next
    night's change (an escalation) is the only thing sent then."""
    with FlakyPlatform() as platform:
        result = deliver(wh, platform.url, TOKEN, **FAST)
        assert (result.delivered, result.pending, result.requests) == (2, 0, 2)
        assert [r.key for r in platform.received] == EXPECTED_KEYS
        assert [r.body.decode() for r in platform.received] == sorted(
            case_json_lines(wh, NIGHT_1), key=lambda s: json.loads(s)["case_id"]
        )
        assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in platform.received)
        assert all(r.headers["content-type"].startswith("application/json") for r in platform.received)
        assert {r.case["case_id"] for r in platform.received} == {"YKT-CHILD", "YKT-FARM"}

        again = deliver(wh, platform.url, TOKEN, **FAST)
        assert (again.delivered, again.requests, len(platform.received)) == (0, 0, 2)

        escalation_night = NIGHT_1 + dt.timedelta(days=PROGRAMS.by_code("NONGJI").resolve_days + 1)
        run_night(wh, escalation_night)
        later = deliver(wh, platform.url, TOKEN, **FAST)
        new = platform.received[2:]
        assert sorted(r.key for r in new) == sorted(
            f"{c}:escalated:{escalation_night}" for c in ("YKT-CHILD", "YKT-FARM")
        )
        assert all(r.case["status"] == "escalated" for r in new) and later.delivered == 2


def test_clue_in_outbox_is_never_sent(wh):
    """Even a clue row that reached the outbox by mistake is not delivered: delivery reads only
    rows of complaint cases."""
    wh.execute(
        "test.bad row",
        """insert into outbox (idempotency_key, case_id, status, on_date, payload, created_at)
                                  values ('YKT-CLUE:open:2024-09-12', 'YKT-CLUE', 'open', date '2024-09-12', '{}', now())""",
    )
    with FlakyPlatform() as platform:
        deliver(wh, platform.url, TOKEN, **FAST)
    assert "YKT-CLUE" not in {r.case.get("case_id") for r in platform.received}
    assert len(platform.received) == 2


def test_transient_failures_are_retried_with_exponential_backoff(wh):
    """Reset, 503, 500, then success for the first case: four requests with the same key and
    body, waits growing 1×, 2×, 4× the back-off; the outbox row counts 4 attempts and is
    delivered; the second case goes through on its first request."""
    backoff = 0.05
    with FlakyPlatform(["reset", 503, 500, "ok"]) as platform:
        result = deliver(wh, platform.url, TOKEN, timeout=0.5, backoff=backoff)
    first = platform.received[:4]
    assert [r.action for r in first] == ["reset", 503, 500, "ok"]
    assert {r.key for r in first} == {EXPECTED_KEYS[0]} and len({r.body for r in first}) == 1
    gaps = [b.at - a.at for a, b in zip(first, first[1:])]
    assert all(gap >= backoff * 2**i for i, gap in enumerate(gaps)), gaps
    assert (result.delivered, result.requests, result.pending) == (2, 5, 0)
    row = outbox(wh)[EXPECTED_KEYS[0]]
    assert (row["attempts"], row["http_status"], row["last_error"]) == (4, 201, None)
    assert row["delivered_at"] is not None


def test_timeout_then_409_for_repeated_key_counts_as_delivered(wh):
    """The platform accepts the first request but answers after the client's 0.2 s timeout; the
    retry carries the same key and gets 409 (already have it): the row is delivered, and the
    platform holds exactly one copy of each case."""
    with FlakyPlatform(["sleep"]) as platform:
        result = deliver(wh, platform.url, TOKEN, **FAST)
        assert [r.action for r in platform.received[:2]] == ["sleep", 409]
        assert platform.received[0].key == platform.received[1].key == EXPECTED_KEYS[0]
        assert (result.delivered, result.already_received, result.pending) == (1, 1, 0)
        assert sorted(platform.accepted) == EXPECTED_KEYS
        assert all(row["delivered_at"] is not None for row in outbox(wh).values())
        assert deliver(wh, platform.url, TOKEN, **FAST).requests == 0


def test_platform_down_keeps_the_outbox_for_next_night(wh):
    """Three 503s exhaust max_attempts=3 on the first row: the run stops (the platform is down),
    both rows stay undelivered with the error recorded; the next night, with the platform back,
    both are delivered. A refused connection is handled the same way."""
    with FlakyPlatform([503, 503, 503]) as platform:
        result = deliver(wh, platform.url, TOKEN, max_attempts=3, **FAST)
        assert (result.delivered, result.pending, result.requests) == (0, 2, 3)
        rows = outbox(wh)
        assert rows[EXPECTED_KEYS[0]]["attempts"] == 3 and "503" in rows[EXPECTED_KEYS[0]]["last_error"]
        assert all(row["delivered_at"] is None for row in rows.values())
        with pytest.raises(DeliveryError):
            result.check()
        assert deliver(wh, platform.url, TOKEN, **FAST).delivered == 2

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}/api/cases"
    run_night(wh, NIGHT_1 + dt.timedelta(days=30))
    down = deliver(wh, closed_url, TOKEN, max_attempts=2, **FAST)
    assert (down.delivered, down.pending, down.requests) == (0, 2, 2)
    assert "拒绝连接" in outbox(wh)[f"YKT-CHILD:escalated:{NIGHT_1 + dt.timedelta(days=30)}"]["last_error"]


def test_permanent_4xx_is_recorded_and_not_retried(wh):
    """422 for the first case: one request only, the row is marked rejected with the status and
    the platform's answer, the second case is still delivered, and later runs leave the rejected
    row alone. 429 (too many requests) is transient: retried."""
    with FlakyPlatform([422, 429, "ok"]) as platform:
        result = deliver(wh, platform.url, TOKEN, **FAST)
        assert [r.action for r in platform.received] == [422, 429, "ok"]
        assert (result.delivered, result.rejected, result.pending) == (1, 1, 0)
        rejected = outbox(wh)[EXPECTED_KEYS[0]]
        assert (rejected["attempts"], rejected["http_status"]) == (1, 422)
        assert (
            rejected["rejected_at"] is not None
            and rejected["delivered_at"] is None
            and "422" in rejected["last_error"]
        )
        assert outbox(wh)[EXPECTED_KEYS[1]]["attempts"] == 2
        assert deliver(wh, platform.url, TOKEN, **FAST).requests == 0


def test_token_is_never_logged_or_stored(tmp_path, caplog):
    """Through failures, retries and a platform that echoes the request headers (token included)
    in its 400 answer, the token appears in no log line, no outbox column, not the result text,
    and not anywhere in the warehouse file."""
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "ykt.duckdb"
    with Warehouse(db) as wh:
        run_night(wh, NIGHT_1)
        with FlakyPlatform(["reset", "echo", 503, "ok"]) as platform:
            result = deliver(wh, platform.url, TOKEN, **FAST)
        assert platform.received[1].headers["authorization"] == f"Bearer {TOKEN}"  # it did travel
        stored = wh.rows("test.all", "select * from outbox")
        assert "Bearer ***" in str(stored)  # the echoed header was kept, redacted
    assert TOKEN not in caplog.text and caplog.text
    assert TOKEN not in str(stored) and TOKEN not in str(result)
    assert TOKEN.encode() not in db.read_bytes()


def test_token_comes_from_the_environment_variable():
    """YKT_PLATFORM_TOKEN is the only source; empty means no Authorization header."""
    assert platform_token({"YKT_PLATFORM_TOKEN": TOKEN}) == TOKEN
    assert platform_token({"YKT_PLATFORM_TOKEN": ""}) is None and platform_token({}) is None


def test_ykt_deliver_exits_3_while_cases_wait_in_the_outbox_and_0_once_delivered(tmp_path, capsys):
    """Fixture: a warehouse file with two complaint changes in its outbox. Against a port nobody listens on,
    `ykt deliver` says how many wait and exits 3 ("ran, needs attention"); against the platform, 0."""
    from ykt.cli import main

    db = tmp_path / "ykt.duckdb"
    with Warehouse(db) as file_wh:
        run_night(file_wh, NIGHT_1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}/api/cases"
    assert main(["deliver", "--endpoint", closed_url, "--db", str(db)]) == 3
    assert "待下次重试 2 件" in capsys.readouterr().err
    with FlakyPlatform(["ok", "ok"]) as platform:
        assert main(["deliver", "--endpoint", platform.url, "--db", str(db)]) == 0
    assert "新送达 2 件" in capsys.readouterr().out
