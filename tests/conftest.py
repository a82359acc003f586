"""Shared test setup: no network, no telemetry, an isolated Prefect home, and a marker per tier.

Each test carries the marker of the folder it lives in (tests/unit → `unit`, tests/office →
`office`…), so `pytest -m "not browser and not office"` runs anywhere without Chromium or
LibreOffice, and `make test` runs every tier.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="ykt-prefect-"))
# a night finding the warehouse locked stops at once (the 60 s default wait is for real schedules)
os.environ.setdefault("YKT_LOCK_WAIT", "0")

from pathlib import Path

import pytest

# Fixtures shared across tiers (the clerk's workbooks of `ykt check`).
pytest_plugins = ["tests.support.checking_fixture"]

TIERS = ("unit", "rules", "integration", "browser", "office", "prefect")
TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.relative_to(TESTS_DIR).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.path}: every test lives in one of the tier folders {TIERS}")
        item.add_marker(tier)


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session: it takes ~12 s to start."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
