"""Benchmark of a province night (issue 15, "Scale, measured").

    python bench/province.py [--counties K] [--entitlements N] [--payments M] [--engines plain,threads,dask]
                             [--work DIR] [--rule-repeats R]

Generates K counties of N entitlements and about M payments each in bench.py's inbox format (GB18030 CSVs), each
county with its own area code (so IDs never collide by chance) plus a few people copied from the county before it
(planted cross-county duplicates), cached under --work. Then, for each engine, from fresh warehouses:

  plain    ykt.province.run_province with the plain loop (one county after another in this process);
           also the time of each county's night + export
  threads  the Prefect flow (flows/province.py) on ThreadPoolTaskRunner, in this process
  dask     the Prefect flow on prefect-dask's DaskTaskRunner with a distributed.LocalCluster (2 worker processes)

and, over the lake the last engine left (K × N entitlements, K × ~M payments as Parquet), the province rules
against a bare DuckDB scan of the same files reading the same columns (the rules' floor). Peak memory is VmHWM of
this process (reset before each phase) and, for Dask, the largest worker's (RUSAGE_CHILDREN after the cluster is
gone). Quality (Great Expectations) is off, as in bench.py. Writes DIR/results.json and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import polars as pl

import ykt  # noqa: F401  (first: the allocator setting, as the product's entry points do)
from bench import (  # bench/bench.py: the county inbox generator
    _payment_table,
    _reference_tables,
    _reset_peak,
    _roster_table,
    bench_entitlements,
    bench_payments,
    write_big_csv,
)
from ykt.sample_data.identity import check_digit_expr

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2024, 7, 20)
SHARED_PEOPLE = 10  # people of each county also on the next county's rosters and paid there
FORMAT_VERSION = 1


def county_code(i: int) -> str:
    return f"5107{i + 1:02d}"


def _with_area(frame: pl.DataFrame, area: str) -> pl.DataFrame:
    body = pl.lit(area) + pl.col("id_number").str.slice(6, 11)
    return frame.with_columns(id_number=body + check_digit_expr(body))


def prepare(work: Path, k: int, n: int, m: int) -> Path:
    """K county inboxes and counties.yaml under work/…; reused when already generated."""
    root = work / f"v{FORMAT_VERSION}_k{k}_n{n}_m{m}"
    if (root / ".done").exists():
        print(f"reusing generated counties in {root}")
        return root
    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    previous: pl.DataFrame | None = None
    lines = [
        "province: {code: '510000', name: 基准省, department: 省财政厅, supervisor: 省纪委监委驻省财政厅纪检监察组, out: province_out}",
        "counties:",
    ]
    for i in range(k):
        code = county_code(i)
        ent = _with_area(bench_entitlements(n, 20240901 + i), code)
        if previous is not None:  # a few of the previous county's people, on this county's rosters too
            ent = pl.concat([ent, previous.head(SHARED_PEOPLE)])
        pay = bench_payments(ent, m, 20240901 + i)
        inbox = root / code / "inbox"
        write_big_csv(inbox / "roster" / f"{code}补贴发放花名册.csv", _roster_table(ent))
        write_big_csv(inbox / "payments" / f"{code}代发明细.csv", _payment_table(pay))
        deaths, employees = _reference_tables(ent, 20240901 + i)
        write_big_csv(inbox / "reference" / "deaths" / "死亡人员名单.csv", deaths)
        write_big_csv(inbox / "reference" / "public_employees" / "财政供养人员名单.csv", employees)
        previous = ent.filter(pl.col("program_code") == "DIBAO")
        lines.append(
            f"  - {{code: '{code}', name: 县{code}, inbox: {code}/inbox, db: {code}/ykt.duckdb, out: {code}/out}}"
        )
        print(
            f"  county {code}: {ent.height:,} entitlements, {pay.height:,} payments ({time.perf_counter() - start:.0f} s)"
        )
    (root / "counties.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / ".done").write_text("ok")
    return root


def fresh(root: Path, k: int) -> None:
    """Remove every warehouse, archive, output and the lake: each engine starts from the same empty state."""
    for i in range(k):
        for name in ("ykt.duckdb", "ykt.duckdb.wal", "archive", "out"):
            target = root / county_code(i) / name
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    shutil.rmtree(root / "province_out", ignore_errors=True)


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_engine(root: Path, k: int, engine: str) -> dict:
    from ykt.counties import load_counties
    from ykt.province import county_jobs, run_county, run_province

    fresh(root, k)
    counties = load_counties(root / "counties.yaml")
    _reset_peak()
    start = time.perf_counter()
    per_county: dict[str, float] = {}
    if engine == "plain":

        def timed_loop(jobs):  # the plain loop, with each county's time
            outcomes = []
            for job in jobs:
                t = time.perf_counter()
                outcomes.append(run_county(job))
                per_county[job.county.code] = round(time.perf_counter() - t, 2)
            return outcomes

        result = run_province(counties, AS_OF, quality=False, fan_out=timed_loop)
    else:
        from ykt.flows.province import run_province_flow

        result = run_province_flow(
            counties.source, AS_OF, dask="local" if engine == "dask" else None, quality=False
        )
    wall = time.perf_counter() - start
    statuses = sorted({c.status for c in result.report.counties})
    assert "failed" not in statuses, [c.error for c in result.report.counties if c.error]
    assert len(county_jobs(counties, AS_OF)) == len(result.report.counties)
    return {
        "engine": engine,
        "seconds": round(wall, 1),
        "per_county": per_county,
        "statuses": statuses,
        "peak_mb_self": round(peak_mb()),
        "peak_mb_children": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "province_findings": {r.code: r.findings for r in result.report.rules},
    }


BARE_SCAN = {
    # the columns the province rules read, scanned and folded into one number each (no join, no grouping)
    "payments": "select count(*), sum(hash(id_number, program, period, county, status, name)), sum(amount) from payments",
    "entitlements": "select count(*), sum(hash(id_number, program, period, county, name)), sum(amount_due) from entitlements",
}


def measure_rules(root: Path, repeats: int) -> dict:
    from ykt.config import load_programs
    from ykt.province.lake import lake_root, open_lake
    from ykt.province.rules import load_province_rules, run_province_rules
    from ykt.warehouse import Lake

    rules = load_province_rules()
    lake_dir = lake_root(root / "province_out")
    best_rules = best_bare = float("inf")
    _reset_peak()
    with Lake() as lake:
        files = open_lake(lake, lake_dir, load_programs())
        rows = {t: lake.scalar("rows", f"select count(*) from {t}") for t in ("entitlements", "payments")}
        for _ in range(repeats):
            t = time.perf_counter()
            for name, sql in BARE_SCAN.items():
                lake.rows(f"bare {name}", sql)
            best_bare = min(best_bare, time.perf_counter() - t)
            t = time.perf_counter()
            found = run_province_rules(lake, rules)
            best_rules = min(best_rules, time.perf_counter() - t)
    return {
        "rows": rows,
        "parquet_files": files,
        "lake_mb": round(sum(p.stat().st_size for p in lake_dir.rglob("*.parquet")) / 2**20),
        "rules_seconds": round(best_rules, 2),
        "bare_scan_seconds": round(best_bare, 2),
        "ratio": round(best_rules / best_bare, 2),
        "findings": dict(found.group_by("rule").len().iter_rows()),
        "peak_mb": round(peak_mb()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--entitlements", type=int, default=500_000)
    parser.add_argument("--payments", type=int, default=550_000)
    parser.add_argument("--engines", default="plain,threads,dask")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "province")
    parser.add_argument("--rule-repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    root = prepare(args.work, args.counties, args.entitlements, args.payments)
    results: dict = {"load_before": os.getloadavg(), "cpus": os.cpu_count(), "engines": []}
    for engine in filter(
        None, args.engines.split(",")
    ):  # --engines "": only the province rules, on the lake as it is
        results["engines"].append(outcome := run_engine(root, args.counties, engine))
        print(
            f"{engine:8} {outcome['seconds']:8.1f} s  peak {outcome['peak_mb_self']} MB (workers {outcome['peak_mb_children']} MB)  {outcome['province_findings']}"
        )
        if outcome["per_county"]:
            times = sorted(outcome["per_county"].values())
            print(
                f"         per county: median {times[len(times) // 2]} s, min {times[0]} s, max {times[-1]} s"
            )
    results["rules"] = measure_rules(root, args.rule_repeats)
    r = results["rules"]
    print(
        f"province rules {r['rules_seconds']} s vs bare scan {r['bare_scan_seconds']} s = {r['ratio']}× over {r['rows']} rows ({r['lake_mb']} MB Parquet), peak {r['peak_mb']} MB"
    )
    results["load_after"] = os.getloadavg()
    (root / "results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"results: {root / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
