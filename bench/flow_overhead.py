"""What the Prefect flow costs a night over the plain engine, with a standing Prefect server (issue 16).

    .venv/bin/python bench/flow_overhead.py                      # starts its own server, then measures
    .venv/bin/python bench/flow_overhead.py --api-url http://127.0.0.1:4200/api --repeat 5

Each repetition runs the demo county's first night twice on a fresh warehouse and output folder: once
with `pipeline.run_night` (what `ykt run --engine plain` runs) and once through the flow (what `ykt run`
and `ykt serve` run: each step a task, the "ykt" logs and the artifacts sent to the server), in
alternating order so a warm cache favours neither. The data-quality step is off in both (it costs the
same in both and only adds noise). Wall time on a shared machine is noisy, so beside the medians it
prints the median of the back-to-back paired differences and this process's CPU time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ykt.pipeline import NightOptions

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-url", default=None, help="a standing server's API (default: start one)")
    parser.add_argument("--port", type=int, default=4299, help="port of the server this script starts")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from ykt.flows.serve import own_server

    work = Path(tempfile.mkdtemp(prefix="ykt-flow-overhead-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect_home"))
    server = nullcontext(args.api_url) if args.api_url else own_server(args.port, work / "server.log")
    with server as api_url:
        os.environ["PREFECT_API_URL"] = api_url  # before Prefect is first imported
        return measure(work, args.repeat, api_url)


def measure(work: Path, repeat: int, api_url: str) -> int:
    from ykt import pipeline
    from ykt.flows.nightly import run_options
    from ykt.sample_data.generate import generate_demo

    inbox, as_of = generate_demo(work / "inbox").nights[0]
    engines = {"plain": pipeline.run_night, "flow": run_options}
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    cpu: dict[str, list[float]] = {name: [] for name in engines}  # this process's CPU (all threads)
    run_options(_options(work / "warm-up", inbox, as_of))  # imports and the server's first answers
    for i in range(repeat):
        order = list(engines) if i % 2 == 0 else list(reversed(engines))
        for name in order:
            started, cpu_started = time.perf_counter(), time.process_time()
            engines[name](_options(work / f"{name}-{i}", inbox, as_of))
            seconds[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    plain, flow = (statistics.median(seconds[n]) for n in ("plain", "flow"))
    print(f"server {api_url}; demo night 1 ({inbox}); {repeat} runs each, data quality off")
    for name, values in seconds.items():
        print(
            f"  {name:<5} median {statistics.median(values):6.2f} s  ({', '.join(f'{v:.2f}' for v in values)});"
            f" CPU of this process {statistics.median(cpu[name]):.2f} s"
        )
    paired = statistics.median(f - p for f, p in zip(seconds["flow"], seconds["plain"]))
    print(
        f"  flow overhead over plain: {flow - plain:+.2f} s (medians), {paired:+.2f} s (median of the paired"
    )
    print("  differences, each pair run back to back) per night; target ≤ 2 s")
    return 0


def _options(root: Path, inbox: Path, as_of: dt.date) -> NightOptions:
    from ykt.pipeline import NightOptions

    return NightOptions(
        inbox=inbox, as_of=as_of, db=root / "w.duckdb", out=root / "out", quality=False, lock_wait=0
    )


if __name__ == "__main__":
    sys.exit(main())
