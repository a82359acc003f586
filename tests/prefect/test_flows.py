"""Smoke tests: each Prefect flow runs under the real engine (prefect_test_harness) and does its job."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ykt.sample_data.generate import generate_demo


@pytest.fixture()
def platform():
    """A real local HTTP server standing in for the 监督一点通 platform: records every POST, answers 201."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"key": self.headers["Idempotency-Key"], "case": json.loads(body)})
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cases", received
    server.shutdown()


def test_nightly_then_deliver_flows(prefect_harness, tmp_path, platform):
    """Fixture: the demo county's first night. The nightly flow writes every output; the deliver flow
    posts exactly the complaint cases (never a clue) and a second delivery sends nothing again."""
    from ykt.flows.deliver import deliver
    from ykt.flows.nightly import nightly

    plan = generate_demo(tmp_path / "inbox")
    inbox, as_of = plan.nights[0]
    db, out = tmp_path / "ykt.duckdb", tmp_path / "out"
    result = nightly(inbox=str(inbox), as_of=as_of.isoformat(), db=str(db), out=str(out), quality=False)
    assert result.outputs["run.json"] == out / as_of.isoformat() / "run.json"
    assert {p.name for p in (out / "latest").iterdir()} >= {
        "discrepancies.csv",
        "cases.jsonl",
        "clues.jsonl",
        "rejects.csv",
        "run.json",
        "exceptions.xlsx",
    }
    assert result.rule_counts["MISSING"] > 0

    endpoint, received = platform
    deliver(endpoint=endpoint, db=str(db))
    cases = [
        json.loads(line) for line in (out / "latest" / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(r["case"]["case_id"] for r in received) == sorted(c["case_id"] for c in cases)
    assert {r["case"]["rule"] for r in received} <= {
        "MISSING",
        "FAILED_NOT_REISSUED",
        "UNDERPAID",
        "BATCH_STALLED",
        "PROGRAM_STALLED",
    }

    deliver(endpoint=endpoint, db=str(db))
    assert len(received) == len(cases), "a delivered case was sent again"


def test_only_the_steps_that_talk_to_another_system_are_retried():
    """Delivery and the notification may fail for a moment: their tasks retry after a delay. Reading,
    rules, cases and reports fail the same way again on the same input: no retries."""
    from ykt import pipeline
    from ykt.flows.nightly import TRANSIENT_RETRY_DELAYS, as_task

    for step in (pipeline.deliver_cases, pipeline.notify):
        retried = as_task(step)
        assert retried.retries == len(TRANSIENT_RETRY_DELAYS) > 0 and retried.retry_delay_seconds
    for step in (
        pipeline.load_config,
        pipeline.ingest,
        pipeline.detect,
        pipeline.follow_cases,
        pipeline.write_reports,
    ):
        assert as_task(step).retries == 0
