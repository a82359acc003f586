"""Prefect entrypoint for the nightly reconciliation (deploy as `flows/nightly.py:nightly`).

Thin on purpose: the sequence of steps lives in `ykt.pipeline.run_night`; this
module only turns each plain step into a Prefect task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from ykt import pipeline

P = ParamSpec("P")
T = TypeVar("T")


def as_task(fn: Callable[P, T]) -> Callable[P, T]:
    # Steps share one DuckDB connection, which cannot be hashed into a cache key.
    wrapped: Callable[P, T] = task(name=fn.__name__, cache_policy=NO_CACHE, retries=0)(fn)
    return wrapped


@flow(name="ykt-nightly", log_prints=True, persist_result=False)
def nightly(
    inbox: str,
    as_of: str,
    db: str = "ykt.duckdb",
    out: str = "out",
    programs: str | None = None,
    endpoint: str | None = None,
    allow_http: bool = False,
    quality: bool = True,
) -> pipeline.NightResult:
    options = pipeline.NightOptions(
        inbox=Path(inbox),
        as_of=dt.date.fromisoformat(as_of),
        db=Path(db),
        out=Path(out),
        programs_path=Path(programs) if programs else None,
        endpoint=endpoint,
        allow_http=allow_http,
        quality=quality,
    )
    return pipeline.run_night(options, step=as_task)


def run_options(options: pipeline.NightOptions) -> pipeline.NightResult:
    """Run the flow from already-parsed options (what `ykt run` does)."""
    return nightly(
        inbox=str(options.inbox),
        as_of=options.as_of.isoformat(),
        db=str(options.db),
        out=str(options.out),
        programs=str(options.programs_path) if options.programs_path else None,
        endpoint=options.endpoint,
        allow_http=options.allow_http,
        quality=options.quality,
    )
