"""The runner: every rule of the registry over the warehouse as of one night, into `findings`.

The as-of views and the shared intermediates are built once, then each rule's rows are
inserted into `findings` in one transaction. All values come in as bound parameters ($as_of
and the programs.yaml settings by name).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from ykt.config import Programs, Settings
from ykt.detect import sql
from ykt.detect.model import Rule, RuleRegistry
from ykt.detect.programs import install_programs
from ykt.errors import RuleExecutionError
from ykt.warehouse import Warehouse

# A parameter value: a date, a number or text from programs.yaml's settings.
Param = dt.date | int | float | str | None
Params = dict[str, Param]


def available_parameters(as_of: dt.date, settings: Settings) -> Params:
    return {"as_of": as_of, **dataclasses.asdict(settings)}


def bind(names: tuple[str, ...], available: Params, **extra: Param) -> Params:
    """Exactly the parameters a statement uses (DuckDB rejects unused ones)."""
    values = {**available, **extra}
    return {name: values[name] for name in names}


def prepare_inputs(
    wh: Warehouse, registry: RuleRegistry, params: Params
) -> list[tuple[str, RuleExecutionError]]:
    """Bind as_of, create the views and build the intermediates; returns failures (name, error)."""
    # a view cannot hold a prepared parameter, so as_of is bound into a session variable
    wh.execute("as_of", "set variable ykt_as_of = $as_of", {"as_of": params["as_of"]})
    for name, statement in sql.VIEWS:
        wh.execute(name, statement)
    failures = []
    with _any_row_order(wh):
        for step in registry.intermediates:
            try:
                wh.execute(
                    step.name,
                    sql.build_intermediate_sql(step.name, step.materialize, step.sql),
                    bind(step.parameters, params),
                )
            except RuleExecutionError as exc:
                failures.append((step.name, exc))
    return failures


@contextmanager
def _any_row_order(wh: Warehouse) -> Iterator[None]:
    """Let DuckDB write tables in any row order meanwhile (a DuckDB-wide setting, restored after).

    The intermediates are sets: every reader joins, groups or filters them, none relies on their
    order. Kept in input order, a table intermediate is built by an ordered writer that costs
    more CPU than the parallel one (bench/README.md)."""
    kept = wh.scalar("row order: read", "select current_setting('preserve_insertion_order')")
    wh.execute("row order: any", "set preserve_insertion_order = false")
    try:
        yield
    finally:
        wh.execute(
            "row order: restore",
            "set preserve_insertion_order = true" if kept else "set preserve_insertion_order = false",
        )


def _drop_intermediates(wh: Warehouse, registry: RuleRegistry) -> None:
    for step in registry.intermediates:
        wh.execute(f"drop {step.name}", sql.drop_intermediate_sql(step.name, step.materialize))


def _insert_counted(wh: Warehouse, rule: Rule, statement: str, params: Params) -> int:
    """Run one of the rule's inserts (findings or pending flags) under its code; rows inserted."""
    inserted = wh.execute(
        rule.code,
        statement,
        bind(sql.sql_parameters(statement), params, ykt_rule=rule.code, ykt_route=rule.route),
    )
    row = inserted.fetchone()
    return int(row[0]) if row else 0


def run_rule(wh: Warehouse, rule: Rule, params: Params) -> int:
    """One rule's findings (and its absorption); the number inserted."""
    statement = sql.insert_findings_sql(rule.finding_sql, record_only=rule.route == "record")
    count = _insert_counted(wh, rule, statement, params)
    _absorb(wh, rule, params)
    return count


def _absorb(wh: Warehouse, rule: Rule, params: Params) -> None:
    if rule.absorbs:
        wh.execute(
            f"{rule.code} absorbs {rule.absorbs.rule}",
            sql.absorb_sql(rule.absorbs.match),
            {"as_of": params["as_of"], "ykt_rule": rule.code, "ykt_member": rule.absorbs.rule},
        )


def _describe_pending(wh: Warehouse, describe_sql: str, params: Params) -> None:
    """Turn the pending flags into findings and clear them."""
    statement = sql.describe_pending_sql(describe_sql)
    wh.execute("describe flagged payments", statement, bind(sql.sql_parameters(statement), params))
    wh.execute("pending flags: clear", "delete from pending_flags")


def run_rules(wh: Warehouse, programs: Programs, registry: RuleRegistry, as_of: dt.date) -> dict[str, int]:
    """Rewrite `findings` with every rule's rows as of `as_of`, in one transaction.

    Returns the number of findings per rule code (every code present, 0 when none).
    A failing statement raises RuleExecutionError named after its rule.
    """
    params = available_parameters(as_of, programs.settings)
    # The views, programs_cfg and the TEMP intermediates are rebuilt from scratch every run, so
    # they are built before the findings' transaction and dropped after it: the transaction then
    # holds only the findings (all or nothing), and neither it nor its commit carries 10M-row
    # temporary tables.
    try:
        install_programs(wh, programs)
        failures = prepare_inputs(wh, registry, params)
        if failures:
            raise failures[0][1]
        with wh.transaction():
            wh.execute("findings: clear", "delete from findings")
            wh.execute("pending flags", sql.PENDING_FLAGS_DDL)
            counts = _run_in_order(wh, registry, params)
            wh.execute("drop pending flags", "drop table if exists pending_flags")
    finally:
        _drop_intermediates(wh, registry)
    return {rule.code: counts[rule.code] for rule in registry.rules}


def _run_in_order(wh: Warehouse, registry: RuleRegistry, params: Params) -> dict[str, int]:
    """Each rule in order. A payments rule's flags wait in `pending_flags` and are described
    together: before the next rule that is not a payments rule (a rule may read the findings of
    lower orders), before an absorption, and at the end."""
    describe_sql = next((r.describe_sql for r in registry.rules if r.returns == "payments"), "")
    counts: dict[str, int] = {}
    pending = False
    for rule in registry.in_order():
        if rule.returns == "payments":
            counts[rule.code] = _insert_counted(wh, rule, sql.flag_payments_sql(rule.sql), params)
            pending = not rule.absorbs
            if rule.absorbs:
                _describe_pending(wh, describe_sql, params)
                _absorb(wh, rule, params)
            continue
        if pending:
            _describe_pending(wh, describe_sql, params)
            pending = False
        counts[rule.code] = run_rule(wh, rule, params)
    if pending:
        _describe_pending(wh, describe_sql, params)
    for rule in registry.in_order():
        if rule.suppresses:
            counts.update(_suppress(wh, rule, params))
    return counts


def _suppress(wh: Warehouse, rule: Rule, params: Params) -> dict[str, int]:
    """Drop the findings `rule` suppresses (every rule has run); the suppressed rules' counts after it."""
    assert rule.suppresses is not None
    wh.execute(
        f"{rule.code} suppresses",
        sql.suppress_sql(rule.suppresses.match),
        {"as_of": params["as_of"], "ykt_rule": rule.code, "ykt_members": list(rule.suppresses.rules)},
    )
    return {
        code: int(
            wh.scalar(
                f"{code} after suppression",
                "select count(*) from findings where rule = $rule and as_of = $as_of",
                {"rule": code, "as_of": params["as_of"]},
            )
        )
        for code in rule.suppresses.rules
    }
