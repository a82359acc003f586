"""Hostile files and faults (issue 14): each attack in tests/support/attacks.py is met by its protection,
the file is reported with its reason and the night goes on with the others."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import attacks
from ykt.config import load_programs
from ykt.ingest import ingest_inbox
from ykt.ingest.read.tables import load_aliases
from ykt.warehouse.connection import Warehouse

PROGRAMS = load_programs()
ALIASES = load_aliases()


@pytest.fixture()
def wh():
    with Warehouse(":memory:") as warehouse:
        yield warehouse


def run(wh: Warehouse, inbox: Path, tmp_path: Path):
    return ingest_inbox(wh, inbox, PROGRAMS, ALIASES, "r1", tmp_path / "archive")


def test_links_fifos_and_files_outside_the_inbox_are_reported_never_opened(wh, tmp_path):
    """Fixture: an inbox with one good roster, links to /proc/self/environ and /etc/passwd, a link to a
    roster outside the inbox, a linked folder holding one and a FIFO. Only the good roster loads; each
    other entry is INBOX_NOT_REGULAR; nothing of the environment or passwd reaches warehouse or archive."""
    inbox = tmp_path / "inbox"
    attacks.good_roster(inbox / "roster")
    entries = attacks.linked_entries(inbox, tmp_path / "outside")
    os.environ["YKT_TEST_SECRET"] = "platform-token-0123456789"
    results = run(wh, inbox, tmp_path)
    by_name = {r.name: r for r in results}
    assert by_name[attacks.GOOD_NAME].status == "loaded"
    assert wh.rows("t", "select count(*) from entitlements") == [(3,)]
    for entry in entries:
        got = by_name[entry.name]
        assert (got.status, got.reason_code, got.rows_read) == ("rejected", "INBOX_NOT_REGULAR", 0), entry
    assert len(results) == len(entries) + 1
    archived = b"".join(p.read_bytes() for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert b"root:" not in archived and b"platform-token" not in archived
    dumped = str(wh.rows("t", "select * from rejects")) + str(wh.rows("t", "select * from run_files"))
    assert "platform-token" not in dumped and "root:" not in dumped
