"""Prefect entrypoint for re-delivering the outbox to the 监督一点通 platform on its own schedule."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from ykt import pipeline
from ykt.deliver import DeliveryResult


@flow(name="ykt-deliver", log_prints=True, persist_result=False)
def deliver(endpoint: str, db: str = "ykt.duckdb", allow_http: bool = False) -> DeliveryResult | None:
    with pipeline.open_warehouse(Path(db), must_exist=True) as wh:
        deliver_cases = task(name="deliver_cases", cache_policy=NO_CACHE)(pipeline.deliver_cases)
        result: DeliveryResult | None = deliver_cases(wh, endpoint, allow_http)
        return result
