"""Prefect entrypoint for the nightly reconciliation (deploy as `flows/nightly.py:nightly`).

Thin on purpose: the sequence of steps lives in `ykt.pipeline.run_night`; this
module only turns each plain step into a Prefect task, puts the package's log
records ("ykt" loggers) into the flow run's log, and publishes the night's
summary and new cases as artifacts of the run.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging.handlers import APILogHandler

from ykt import pipeline
from ykt.summary import new_case_rows, night_markdown

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TIMEZONE = "Asia/Shanghai"
# Transient steps (pipeline.TRANSIENT_STEPS: delivery, the notification) are retried after these delays
# when they raise; the HTTP calls inside them already retry each request with back-off.
TRANSIENT_RETRY_DELAYS: list[float] = [30, 120]


def as_task(fn: Callable[P, T]) -> Callable[P, T]:
    # Steps share one DuckDB connection, which cannot be hashed into a cache key.
    transient = fn.__name__ in pipeline.TRANSIENT_STEPS
    wrapped: Callable[P, T] = task(
        name=fn.__name__,
        cache_policy=NO_CACHE,
        retries=len(TRANSIENT_RETRY_DELAYS) if transient else 0,
        retry_delay_seconds=TRANSIENT_RETRY_DELAYS if transient else None,
    )(fn)
    return wrapped


def today(timezone: str = DEFAULT_TIMEZONE) -> dt.date:
    """The night's date where the county is (a server on UTC would otherwise date a 02:00 run yesterday)."""
    return dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()


@contextmanager
def ykt_logs_in_run_log(log_file: str | None = None) -> Iterator[None]:
    """The package's log records (counts per step, files read, deliveries) go to the flow run's log, and
    to `log_file` when a served run was given one (`ykt serve --log-file`)."""
    from ykt.progress import show_progress

    logger = logging.getLogger("ykt")
    handler = APILogHandler(level=logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        with show_progress(log_file=Path(log_file) if log_file else None, live=False):
            yield
    finally:
        handler.flush()
        logger.removeHandler(handler)
        logger.setLevel(level)


@task(name="publish_artifacts", cache_policy=NO_CACHE)
def publish_artifacts(result: pipeline.NightResult, county: str | None) -> None:
    """The night's summary (health, counts, report paths) and its new cases, on the flow run's page."""
    create_markdown_artifact(
        night_markdown(result, county), key="ykt-night-summary", description=f"{result.as_of} 夜间核对"
    )
    rows = new_case_rows(result)
    if rows:  # Prefect shows an empty table as an error
        create_table_artifact(
            rows, key="ykt-new-cases", description=f"{result.as_of} 新立案件（{len(rows)} 件）"
        )


@flow(name="ykt-nightly", log_prints=True, persist_result=False)
def nightly(
    inbox: str,
    as_of: str | None = None,
    db: str = "ykt.duckdb",
    out: str = "out",
    programs: str | None = None,
    endpoint: str | None = None,
    allow_http: bool = False,
    quality: bool = True,
    county: str | None = None,
    notify_url: str | None = None,
    lock_wait: float | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    log_file: str | None = None,
) -> pipeline.NightResult:
    """One night. `as_of` defaults to today in `timezone`, so a scheduled run needs no date."""
    options = pipeline.NightOptions(
        inbox=Path(inbox),
        as_of=dt.date.fromisoformat(as_of) if as_of else today(timezone),
        db=Path(db),
        out=Path(out),
        programs_path=Path(programs) if programs else None,
        endpoint=endpoint,
        allow_http=allow_http,
        quality=quality,
        county=county,
        notify_url=notify_url,
        lock_wait=lock_wait,
    )
    with ykt_logs_in_run_log(log_file):
        result = pipeline.run_night(options, step=as_task)
        publish_artifacts(result, county)
    return result


def flow_parameters(options: pipeline.NightOptions, *, with_as_of: bool = True) -> dict[str, Any]:
    """The flow's parameters for already-parsed options (`ykt run`, and `ykt serve`'s deployment)."""
    parameters: dict[str, Any] = {
        "inbox": str(options.inbox),
        "db": str(options.db),
        "out": str(options.out),
        "programs": str(options.programs_path) if options.programs_path else None,
        "endpoint": options.endpoint,
        "allow_http": options.allow_http,
        "quality": options.quality,
        "county": options.county,
        "notify_url": options.notify_url,
        "lock_wait": options.lock_wait,
    }
    if with_as_of:
        parameters["as_of"] = options.as_of.isoformat()
    return parameters


def run_options(options: pipeline.NightOptions) -> pipeline.NightResult:
    """Run the flow from already-parsed options (what `ykt run` does)."""
    result: pipeline.NightResult = nightly(**flow_parameters(options))
    return result
