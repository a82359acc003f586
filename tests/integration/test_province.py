"""`ykt run --counties`: the contract other scripts read (exit codes, province outputs, county_code in every
county output) and the Parquet lake's layout and atomic replacement, on tiny counties (--engine plain).

Fixture: 510723 pays four people 低保 for August 2024 and leaves a fifth unpaid (one MISSING case); 510722
pays two, one of whom 510723 also paid (a cross-county duplicate); a third county's inbox does not exist.
"""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from tests.support.province import AS_OF, TinyCounty, person, write_counties_yaml, write_county
from ykt.cli import main
from ykt.errors import WarehouseError
from ykt.province.lake import export_county, lake_files
from ykt.warehouse import Warehouse

A, B, MISSING = "510723", "510722", "510799"
SHARED = person(A, 1)


@pytest.fixture()
def province(tmp_path):
    a = TinyCounty(
        A,
        "安和县",
        [("甲一", SHARED)] + [(f"甲{i}", person(A, i)) for i in range(2, 6)],
        unpaid={person(A, 5)},
    )
    b = TinyCounty(B, "三台县", [("甲一", SHARED), ("乙二", person(B, 2))])
    for county in (a, b):
        write_county(tmp_path, county)
    return tmp_path, write_counties_yaml(tmp_path, [a, b], missing=[MISSING])


def run(*args: str) -> int:
    return main(["run", *args, "--as-of", AS_OF, "--engine", "plain", "--no-quality"])


def summary(root) -> dict:
    return json.loads((root / "province_out" / AS_OF / "province_summary.json").read_text(encoding="utf-8"))


def test_all_counties_a_failing_one_listed_and_the_worst_exit_code(province, capsys):
    """Every county runs; the one without an inbox is listed as failed with the reason, the others finish,
    the province layer finds the duplicate, and the exit code is 1 (the worst: a failed county)."""
    root, counties = province
    assert run("--counties", str(counties), "--all") == 1
    s = summary(root)
    status = {c["code"]: c["status"] for c in s["counties"]}
    assert status == {A: "ok", B: "ok", MISSING: "failed"}
    failed = next(c for c in s["counties"] if c["code"] == MISSING)
    assert "收件目录不存在" in failed["error"]
    assert s["totals"]["failed"] == [MISSING]
    assert s["province_findings"]["CROSS_COUNTY_DUPLICATE"] == 1
    a = next(c for c in s["counties"] if c["code"] == A)
    assert a["cases"]["open"] == 1 and a["findings"]["MISSING"] == 1 and a["money_at_stake"] == 500.0
    clues = [
        json.loads(line)
        for line in (root / "province_out" / AS_OF / "province_clues.jsonl").open(encoding="utf-8")
    ]
    assert [(c["rule"], c["counties"], c["department"]) for c in clues] == [
        ("CROSS_COUNTY_DUPLICATE", [B, A], "省财政厅")
    ]
    assert SHARED not in json.dumps(clues, ensure_ascii=False), "the ID must be masked"
    assert "缺失县510799" in capsys.readouterr().out


def test_one_county_and_county_code_in_its_outputs(province):
    """--county runs that county only (exit 0: its night is in order) and every finding and case it writes,
    and its run.json, carry its code."""
    root, counties = province
    assert run("--counties", str(counties), "--county", A) == 0
    assert [c["code"] for c in summary(root)["counties"]] == [A]
    assert not (root / B / "ykt.duckdb").exists()
    out = root / A / "out" / AS_OF
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["county_code"] == A
    cases = [json.loads(line) for line in (out / "cases.jsonl").open(encoding="utf-8")]
    assert [(c["rule"], c["county_code"]) for c in cases] == [("MISSING", A)]
    with (out / "discrepancies.csv").open(encoding="utf-8-sig") as f:
        assert {row["county_code"] for row in csv.DictReader(f)} == {A}


@pytest.mark.parametrize(
    "args",
    [
        ("--county", "999999"),  # not in counties.yaml
        ("--db", "x.duckdb"),  # the warehouses are in counties.yaml
        ("--dask", "local", "--engine", "plain"),
    ],
)
def test_usage_and_config_mistakes_stop_before_any_work(province, args):
    """Exit 2 and no warehouse created."""
    root, counties = province
    assert main(["run", "--counties", str(counties), "--as-of", AS_OF, *args]) == 2
    assert not (root / A / "ykt.duckdb").exists()


def test_inbox_and_counties_are_mutually_exclusive(province):
    root, counties = province
    assert (
        main(["run", "--counties", str(counties), "--inbox", str(root / A / "inbox"), "--as-of", AS_OF]) == 2
    )


def test_a_warehouse_belongs_to_one_county(province):
    """Another counties.yaml (another office's) pointing 510722 at 510723's warehouse would mix their
    villagers: 510722's night is refused there and listed as failed (exit 1)."""
    root, counties = province
    assert run("--counties", str(counties), "--county", A) == 0
    province_line = counties.read_text(encoding="utf-8").splitlines()[0]
    other = root / "other.yaml"
    other.write_text(
        f"{province_line}\ncounties:\n"
        f'  - {{code: "{B}", name: 三台县, inbox: {B}/inbox, db: {A}/ykt.duckdb, out: {B}/out}}\n',
        encoding="utf-8",
    )
    assert run("--counties", str(other)) == 1
    failed = summary(root)["counties"][0]
    assert failed["status"] == "failed" and "数据仓库属于县 510723" in failed["error"]


def test_lake_layout_and_atomic_replacement(province):
    """The lake is Hive-partitioned (county=/program=/period=); a re-export replaces the county's partition
    (no second copy); an export that fails half-way leaves the previous partition whole and no staging."""
    root, counties = province
    assert run("--counties", str(counties), "--county", A) == 0
    lake = root / "province_out" / "lake"
    files = lake_files(lake, "payments")
    assert [p.split("lake/")[1].rsplit("/", 1)[0] for p in files] == [
        f"payments/county={A}/program=DIBAO/period=2024-08"
    ]
    with Warehouse(root / A / "ykt.duckdb") as wh:
        export_county(wh, A, lake)
        assert lake_files(lake, "payments") == files  # replaced, not added beside
        wh.execute("break the export", "drop table deaths")
        with pytest.raises(Exception, match="deaths"):
            export_county(wh, A, lake)
    assert len(lake_files(lake, "payments")) == 1 and len(lake_files(lake, "deaths")) == 0
    assert not any((lake / ".staging").iterdir())
    shutil.rmtree(lake / "payments")
    assert lake_files(lake, "payments") == []


def test_night_of_another_county_on_a_warehouse_is_refused(tmp_path):
    """The pipeline's own check (the CLI test above goes through it): exit code 2, warehouse untouched."""
    from ykt.pipeline import check_county

    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.execute(
            "a run",
            "insert into runs (run_id, as_of, started_at, county_code) values ('r', '2024-09-12', now(), $c)",
            {"c": A},
        )
        check_county(wh, A)
        check_county(wh, None)
        with pytest.raises(WarehouseError) as err:
            check_county(wh, B)
    assert err.value.exit_code == 2
