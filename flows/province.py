"""Prefect entrypoint for a province night (deploy as `flows/province.py:province`).

Thin on purpose: the sequence lives in `ykt.province.run_province`; this module only fans the county nights
out as Prefect tasks, on in-process threads by default or on Dask (prefect-dask's DaskTaskRunner) with a
`distributed.LocalCluster` (`dask="local"`) or an existing cluster (`dask="tcp://scheduler:8786"`).
Each county's night is one task running `ykt.province.run_county`, a module-level function of picklable
values, so a Dask worker process imports it by path.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from ykt import province as prov
from ykt.counties import load_counties
from ykt.errors import UsageError

LOCAL_WORKERS = 2  # processes of a `--dask local` cluster (one county night each at a time)


@task(name="county-night", cache_policy=NO_CACHE, retries=0)
def county_night(job: prov.CountyJob) -> prov.CountyOutcome:
    return prov.run_county(job)


def prefect_fan_out(jobs: Sequence[prov.CountyJob]) -> list[prov.CountyOutcome]:
    """Every county's night as a task on the flow's task runner; a task that died (a worker lost, a process
    killed) is that county's `failed` line, never the province's end."""
    futures = [county_night.submit(job) for job in jobs]
    outcomes = []
    for job, future in zip(jobs, futures):
        future.wait()
        state = future.state
        if state.is_completed():
            outcomes.append(future.result())
        else:
            outcomes.append(
                prov.CountyOutcome.failed(job, f"县核对任务未完成：{state.name} {state.message or ''}")
            )
    return outcomes


@flow(name="ykt-province", log_prints=True, persist_result=False)
def province(
    counties: str, as_of: str, county: str | None = None, quality: bool = True
) -> prov.ProvinceResult:
    """Every county's night (or one), then the province layer (threads by default: see `run_province_flow`
    for Dask)."""
    return prov.run_province(
        load_counties(counties),
        dt.date.fromisoformat(as_of),
        only=county,
        quality=quality,
        fan_out=prefect_fan_out,
    )


def task_runner(dask: str | None) -> Any:
    """Threads in this process by default; a Dask LocalCluster for "local"; else a Dask scheduler address."""
    if dask is None:
        return ThreadPoolTaskRunner(max_workers=max(1, min(4, os.cpu_count() or 1)))
    from prefect_dask.task_runners import DaskTaskRunner

    if dask == "local":
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": LOCAL_WORKERS, "threads_per_worker": 1, "processes": True},
        )
    check_scheduler(dask)
    return DaskTaskRunner(address=dask)


def check_scheduler(address: str, timeout: str = "10s") -> None:
    """An unreachable scheduler is a precondition, said before any county's night (exit 2), not a traceback."""
    from distributed import Client

    try:
        Client(address, timeout=timeout).close()  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"无法连接 Dask 调度器：{type(exc).__name__}: {exc}",
            where=f"--dask {address}",
            hint="检查调度器地址（如 tcp://10.0.0.5:8786）与网络；或用 --dask local 在本机并行，或不加 --dask",
        ) from None


def run_province_flow(
    counties: Path,
    as_of: dt.date,
    *,
    county: str | None = None,
    dask: str | None = None,
    quality: bool = True,
) -> prov.ProvinceResult:
    """Run the flow from already-parsed options (what `ykt run --counties` does), on the chosen task runner."""
    run = province.with_options(task_runner=task_runner(dask))
    result: prov.ProvinceResult = run(
        counties=str(counties), as_of=as_of.isoformat(), county=county, quality=quality
    )
    return result
