"""The province flow under the real Prefect engine: county nights as tasks on in-process threads and on a
Dask LocalCluster of 2 worker processes (prefect-dask), tiny counties, one of them failing.

Fixture (as tests/integration/test_province.py): 510723 and 510722 share one 低保 beneficiary paid by both
for August 2024; a third county's inbox does not exist.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.support.province import AS_OF, TinyCounty, person, write_counties_yaml, write_county

A, B, MISSING = "510723", "510722", "510799"


@pytest.fixture()
def counties(tmp_path):
    shared = person(A, 1)
    a = TinyCounty(A, "安和县", [("甲一", shared), ("甲二", person(A, 2))])
    b = TinyCounty(B, "三台县", [("甲一", shared), ("乙二", person(B, 2))])
    for county in (a, b):
        write_county(tmp_path, county)
    return write_counties_yaml(tmp_path, [a, b], missing=[MISSING])


@pytest.mark.parametrize("dask", [None, "local"], ids=["threads", "dask-localcluster"])
def test_province_flow_fans_out_and_lists_a_failed_county(prefect_harness, counties, dask):
    """Both engines run every county (the failing one listed, the others finished), then the province layer
    finds the duplicate; the outcome is the same whichever runner ran the county nights."""
    from ykt.flows.province import run_province_flow

    result = run_province_flow(counties, dt.date.fromisoformat(AS_OF), dask=dask, quality=False)
    status = {c.code: c.status for c in result.report.counties}
    assert status == {A: "ok", B: "ok", MISSING: "failed"}
    assert result.exit_code == 1
    summary = json.loads(result.outputs["province_summary.json"].read_text(encoding="utf-8"))
    assert summary["province_findings"]["CROSS_COUNTY_DUPLICATE"] == 1
    assert {c["code"]: c["exported"]["payments"] for c in summary["counties"] if c["status"] == "ok"} == {
        A: 2,
        B: 2,
    }


def test_an_unreachable_dask_scheduler_is_said_before_any_work():
    """--dask with an address nobody listens on: a Chinese message naming it, exit 2, not a traceback."""
    from ykt.errors import UsageError
    from ykt.flows.province import check_scheduler

    with pytest.raises(UsageError, match="无法连接 Dask 调度器") as err:
        check_scheduler("tcp://127.0.0.1:9", timeout="2s")
    assert err.value.exit_code == 2 and "--dask tcp://127.0.0.1:9" in err.value.render()
