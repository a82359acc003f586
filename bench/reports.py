"""Benchmark: the night's reports for ~100,000 findings (issue 16: ≤ 3 s).

Plants findings straight into a fresh warehouse (set-based SQL over `range`, every rule of the registry,
complaint and clue routes, 40 townships, one stalled batch absorbing 2,000 villagers), runs the real cases
step on two nights (so cases carry events, a trend and a history), then times, on the second night,
`build_report` (every query of the report model) and each renderer writing its file. Figures go to
bench/README.md with the machine's load (`uptime`).

    .venv/bin/python bench/reports.py [--findings 100000] [--work bench/work/reports]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

from ykt.cases import update_cases
from ykt.config import load_programs
from ykt.detect import load_registry
from ykt.report import build_report
from ykt.report.write import RENDERERS, write_atomically
from ykt.warehouse import Warehouse

HERE = Path(__file__).parent
NIGHTS = (dt.date(2024, 9, 12), dt.date(2024, 9, 13))
PLANT = """
insert into findings (as_of, rule, route, case_id, program_code, period, id_number, name, card_number, township,
                      village, group_name, amount_due, amount_paid, due_date, paid_date, days_overdue, detail)
select $as_of,
       r.code,
       r.route,
       case when i < 2000 then 'YKT-BATCH' else 'YKT-' || lpad(i::varchar, 16, '0') end,
       'DIBAO', '2024-08',
       '510723' || lpad((19500101 + i % 500)::varchar, 8, '0') || lpad((i % 1000)::varchar, 3, '0') || 'X',
       '对象' || i,
       '6217' || lpad(i::varchar, 12, '0'),
       '乡镇' || (i % 40), '村' || (i % 400), (i % 9) || '组',
       (100 + i % 2000)::decimal(18, 2),
       case when r.route = 'clue' then (200 + i % 3000)::decimal(18, 2) end,
       date '2024-08-10' - (i % 60)::integer,
       case when r.route = 'clue' then date '2024-08-12' end,
       (i % 90)::integer,
       '第' || i || '条：' || r.code
from range($n) t(i)
inner join (select unnest($codes) as code, unnest($routes) as route, generate_subscripts($codes, 1) - 1 as k) r
    on r.k = case when i < 2000 then 0 else i % len($codes) end
where $as_of = date '2024-09-12' or i % 10 <> 0  -- night 2: a tenth resolved
"""
BATCH = """
insert into findings (as_of, rule, route, case_id, program_code, period, township, village, group_name,
                      amount_due, due_date, days_overdue, detail)
values ($as_of, 'BATCH_STALLED', 'complaint', 'YKT-BATCH', 'DIBAO', '2024-08', '乡镇0', '村0', '0组',
        2000000.00, date '2024-08-10', 33, '2000人整批未发放')
"""


def plant(wh: Warehouse, as_of: dt.date, n: int, codes: list[str], routes: list[str]) -> None:
    """n findings on the second night (a tenth more on the first: those are resolved by the second)."""
    params = {"as_of": as_of, "n": -(-n * 10 // 9), "codes": codes, "routes": routes}
    wh.execute("bench.plant", PLANT, params)
    wh.execute("bench.batch", BATCH, {"as_of": as_of})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "reports")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    programs, registry = load_programs(), load_registry()
    case_rules = [r for r in registry.rules if r.route in ("complaint", "clue") and r.code != "BATCH_STALLED"]
    # MISSING first: the 2,000 villagers of the stalled batch are its findings
    codes = ["MISSING", *[r.code for r in case_rules if r.code != "MISSING"]]
    routes = [next(r.route for r in registry.rules if r.code == c) for c in codes]
    titles = {r.code: r.title for r in registry.rules}
    with Warehouse(args.work / "bench.duckdb") as wh:
        for night in NIGHTS:
            plant(wh, night, args.findings, codes, routes)
            update_cases(wh, programs, registry, night, f"R-{night.isoformat()}")
        as_of = NIGHTS[-1]
        found = wh.rows("bench.count", "select count(*) from findings where as_of = $d", {"d": as_of})[0][0]
        t0, c0 = time.perf_counter(), time.process_time()
        report = build_report(
            wh,
            f"R-{as_of.isoformat()}",
            as_of,
            programs,
            rule_titles=titles,
            rule_counts={},
            case_counts=None,
            started_at=dt.datetime.now(),
            finished_at=dt.datetime.now(),
        )
        model = time.perf_counter() - t0, time.process_time() - c0
    timings = {}
    out = args.work / "out"
    out.mkdir()
    for name, render in RENDERERS.items():
        t, c = time.perf_counter(), time.process_time()
        write_atomically(out / name, lambda p, render=render: render(report, p))
        timings[name] = time.perf_counter() - t, time.process_time() - c
    wall = model[0] + sum(w for w, _ in timings.values())
    cpu = model[1] + sum(c for _, c in timings.values())
    print(f"{found:,} findings, {report.cases.height:,} cases listed, {report.clues.height:,} clues listed")
    print(f"{'build_report':<20} {model[0]:.2f} s wall  {model[1]:.2f} s cpu")
    for name, (w, c) in timings.items():
        print(f"  {name:<18} {w:.2f} s wall  {c:.2f} s cpu  {(out / name).stat().st_size / 1e6:.1f} MB")
    print(f"reports total {wall:.2f} s wall, {cpu:.2f} s cpu (all threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
