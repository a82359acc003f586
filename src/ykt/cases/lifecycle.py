"""Case lifecycle, case events and the KPIs the counties publish.

A case groups the findings of one night that share a `case_id` (route complaint or
clue; route `record` never makes a case). The lifecycle is applied set-based, in SQL,
inside one transaction per night:

    open ──(as_of > deadline, still unresolved)──▶ escalated
    open / escalated ──(no finding holds the case_id)──▶ resolved
    resolved ──(the case_id recurs)──▶ open again (reopened_count + 1, new deadline)

Every state change is a `case_events` row and, for complaint cases, an `outbox` row
(written in the same transaction) that `ykt.deliver.platform` posts to the platform. A case
is never deleted. Re-running the same night changes nothing: the changes are derived
from the difference between the findings and the stored state, and a re-run finds none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from ykt.config import Programs
from ykt.errors import UsageError
from ykt.labels import EVENT_DETAILS, EVENT_LABELS
from ykt.masking import mask_card_expr, mask_id_expr
from ykt.warehouse import Warehouse

# Rules whose finding heads a group of member findings that carry its case_id
# (BATCH_STALLED heads the MISSING findings of one village group): such a case
# takes its persons and amount from the members, not from its own header row.
GROUP_RULES = ("BATCH_STALLED",)
# A case whose findings carry no program (SHARED_ACCOUNT: one case per card, program_code '') is
# handled by the department of the program of its first payment, found in `payments`; with no
# such payment it goes to the county commission.
FALLBACK_AUTHORITY = "县纪委监委"
FALLBACK_RESOLVE_DAYS = 15

# The object of one cases.jsonl / clues.jsonl line and of one platform delivery, in order.
CASE_FIELDS = (
    "case_id",
    "rule",
    "program_code",
    "program_name",
    "period",
    "township",
    "village",
    "group",
    "persons",
    "amount",
    "department",
    "supervisor",
    "opened_on",
    "deadline",
    "status",
    "resolved_on",
    "summary",
)
_FIELD_COLUMN = {"group": "group_name"}

EVENT_STATUS = {"opened": "open", "reopened": "open", "escalated": "escalated", "resolved": "resolved"}


@dataclass(frozen=True)
class CaseCounts:
    """State changes of one night (all routes) and the totals after it."""

    opened: int
    reopened: int
    escalated: int
    resolved: int
    open_total: int
    escalated_total: int


@dataclass(frozen=True)
class KpiFigures:
    """Complaint-case figures up to a date. `opened` counts every (re)opening (受理), `resolved`
    every resolution (办结), so the rate stays within 0..1 when a case is reopened."""

    opened: int
    resolved: int
    resolution_rate: float | None  # resolved / opened, all-time; None before the first case
    median_days_to_resolve: float | None
    escalated: int  # escalations (督办) so far
    open_now: int
    escalated_now: int
    amount_at_stake: Decimal  # amount of cases open or escalated at the date
    amount_recovered: Decimal  # amount of cases resolved at the date

    def as_dict(self) -> dict:
        """JSON-ready (run.json): amounts as numbers with 2 decimals."""
        out = dict(vars(self))
        out["amount_at_stake"] = float(self.amount_at_stake)
        out["amount_recovered"] = float(self.amount_recovered)
        return out


@dataclass(frozen=True)
class DepartmentKpis:
    department: str
    figures: KpiFigures


@dataclass(frozen=True)
class Kpis:
    as_of: dt.date
    overall: KpiFigures
    departments: tuple[DepartmentKpis, ...]  # sorted by department

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "overall": self.overall.as_dict(),
            "departments": [{"department": d.department, **d.figures.as_dict()} for d in self.departments],
        }


# ---------------------------------------------------------------------------------------------
# update_cases
# ---------------------------------------------------------------------------------------------


def update_cases(wh: Warehouse, programs: Programs, as_of: dt.date, run_id: str) -> CaseCounts:
    """Apply one night's findings to the cases: open, escalate, resolve, reopen; record the events
    and queue complaint-case changes in the outbox, all in one transaction."""
    params = {"as_of": as_of}
    with wh.transaction():
        _refuse_going_back(wh, as_of)
        _stage_programs(wh, programs)
        wh.execute(
            "cases.stage current",
            _STAGE_CURRENT_SQL,
            {
                **params,
                "group_rules": list(GROUP_RULES),
                "fallback_authority": FALLBACK_AUTHORITY,
                "fallback_resolve_days": FALLBACK_RESOLVE_DAYS,
            },
        )
        _stage_summaries(wh, as_of)
        wh.execute("cases.stage changes", _STAGE_CHANGES_SQL, params)
        wh.execute("cases.stage next", _STAGE_NEXT_SQL)
        for name, sql in _APPLY_SQL:
            wh.execute(f"cases.{name}", sql, params)
        wh.execute(
            "cases.events",
            _INSERT_EVENTS_SQL,
            {
                **params,
                "run_id": run_id,
                "status_after": _sql_map(EVENT_STATUS),
                "detail": _sql_map(EVENT_DETAILS),
            },
        )
        wh.execute("cases.outbox", _INSERT_OUTBOX_SQL, params)
        return _counts(wh)


def _refuse_going_back(wh: Warehouse, as_of: dt.date) -> None:
    """A night earlier than one already applied would rewrite history the platform has seen."""
    latest = wh.scalar("cases.latest night", "select max(on_date) from case_events")
    if latest is not None and as_of < latest:
        raise UsageError(
            f"案件已更新到 {latest.isoformat()}，不能再按更早的日期 {as_of.isoformat()} 更新案件",
            hint="使用不早于该日期的 --as-of，或为历史重算使用一个新的数据库文件（--db）",
        )


def _sql_map(mapping: dict[str, str]) -> dict:
    """A Python mapping as a DuckDB MAP parameter (bound, never formatted into SQL)."""
    return {"key": list(mapping), "value": list(mapping.values())}


def _stage_programs(wh: Warehouse, programs: Programs) -> None:
    wh.execute(
        "cases.programs",
        """
        create or replace temp table case_programs (
            code varchar, name varchar, department varchar, supervisor varchar, resolve_days integer)""",
    )
    frame = pl.DataFrame(
        {
            "code": [p.code for p in programs.programs],
            "name": [p.name for p in programs.programs],
            "department": [p.department for p in programs.programs],
            "supervisor": [p.supervisor for p in programs.programs],
            "resolve_days": [p.resolve_days for p in programs.programs],
        },
        schema={
            "code": pl.Utf8,
            "name": pl.Utf8,
            "department": pl.Utf8,
            "supervisor": pl.Utf8,
            "resolve_days": pl.Int32,
        },
    )
    wh.insert_frame("case_programs", frame)


# One row per live case_id of this night, with every field the case row needs except the summary.
_STAGE_CURRENT_SQL = """
create or replace temp table case_current as
with live as (
    select * replace (nullif(program_code, '') as program_code)
    from findings
    where as_of = $as_of and case_id is not null and route in ('complaint', 'clue')
),
payment_programs as (
    -- the program of each successful payment behind a finding that names none (SHARED_ACCOUNT)
    select id_number, card_number, period, pay_date, min(program_code) as program_code
    from payments
    where status = 'success'
      and (id_number, card_number) in (select id_number, card_number from live where program_code is null)
    group by all
),
heads as (
    select
        case_id,
        min(rule) filter (where list_contains($group_rules, rule)) as group_rule,
        min(route) filter (where list_contains($group_rules, rule)) as group_route,
        min(rule) as first_rule,
        min(route) as first_route
    from live
    group by case_id
),
ruled as (
    select
        live.*,
        coalesce(heads.group_rule, heads.first_rule) as case_rule,
        coalesce(heads.group_route, heads.first_route) as case_route,
        heads.group_rule is not null as is_group
    from live
    join heads using (case_id)
),
member_counts as (
    select case_id, count(*) filter (where not is_group or rule <> case_rule) as members
    from ruled
    group by case_id
),
members as (
    -- a group case counts its member findings, not its own header row (unless it has no members)
    select
        ruled.*,
        coalesce(ruled.program_code, paid.program_code) as paid_program,
        -- "first payment" order: decides the department of a case spanning programs, and its place
        struct_pack(d := coalesce(ruled.paid_date, ruled.due_date), p := coalesce(ruled.program_code, paid.program_code),
                    q := ruled.period, i := ruled.id_number, c := ruled.card_number, t := ruled.township,
                    v := ruled.village, g := ruled.group_name) as first_key
    from ruled
    join member_counts using (case_id)
    left join payment_programs paid
        on  paid.id_number = ruled.id_number
        and paid.card_number = ruled.card_number
        and paid.period = ruled.period
        and paid.pay_date = ruled.paid_date
    where not is_group or rule <> case_rule or members = 0
),
grouped as (
    select
        case_id,
        any_value(case_rule) as rule,
        any_value(case_route) as route,
        -- min = max: exactly one distinct value (cheaper than count(distinct) on big nights)
        case when min(program_code) = max(program_code) then min(program_code) end as program_code,
        arg_min(paid_program, first_key) filter (where paid_program is not null) as department_program,
        case when min(period) = max(period) then min(period) else min(period) || '/' || max(period) end as period,
        case when min(id_number) = max(id_number) then min(id_number)
             when min(card_number) = max(card_number) then min(card_number) end as single_key,
        arg_min(struct_pack(township, village, group_name), first_key) as first_place,
        count(distinct id_number)::integer as persons,
        count(*)::integer as findings,
        min(name) as name,
        min(id_number) as id_number,
        min(card_number) as card_number,
        sum(amount_due) as amount_due,
        sum(amount_paid) as amount_paid,
        sum(greatest(coalesce(amount_due, 0) - coalesce(amount_paid, 0), 0)) as shortfall,
        min(due_date) as due_date,
        coalesce(max(days_overdue), $as_of - min(due_date)) as days_overdue
    from members
    group by case_id
)
select
    g.* exclude (first_place),
    g.first_place.township as township,
    g.first_place.village as village,
    g.first_place.group_name as group_name,
    coalesce(g.single_key, concat_ws('/', coalesce(g.first_place.township, ''), coalesce(g.first_place.village, ''),
                                     coalesce(g.first_place.group_name, ''))) as case_key,
    (case when g.route = 'complaint' then g.shortfall else coalesce(g.amount_paid, 0) end)::decimal(18, 2) as amount,
    named.name as program_name,
    coalesce(replace(dept.department, '{township}', coalesce(g.first_place.township, '')), $fallback_authority) as department,
    coalesce(replace(dept.supervisor, '{township}', coalesce(g.first_place.township, '')), $fallback_authority) as supervisor,
    coalesce(dept.resolve_days, $fallback_resolve_days) as resolve_days
from grouped g
left join case_programs named on named.code = g.program_code
left join case_programs dept on dept.code = g.department_program
"""


# ---------------------------------------------------------------------------------------------
# summaries (vectorised polars: masking lives in ykt.masking)
# ---------------------------------------------------------------------------------------------

_SUMMARY_INPUT_SQL = """
select
    case_id, rule, route, persons, findings, name, id_number, card_number, township, village, group_name,
    program_name, period, strftime(due_date, '%Y-%m-%d') as due_text, days_overdue,
    format('{:,.2f}', amount) as amount_text,
    format('{:,.2f}', coalesce(amount_due, 0)) as due_amount_text,
    format('{:,.2f}', coalesce(amount_paid, 0)) as paid_amount_text
from case_current
"""


def _stage_summaries(wh: Warehouse, as_of: dt.date) -> None:
    summaries = case_summaries(wh.frame("cases.summary input", _SUMMARY_INPUT_SQL), as_of)
    wh.execute(
        "cases.summaries", "create or replace temp table case_summary (case_id varchar, summary varchar)"
    )
    wh.insert_frame("case_summary", summaries)


def period_text_expr(period: pl.Expr) -> pl.Expr:
    """'2024-08' → 2024年8月, '2024-Q1' → 2024年第1季度, '2024' → 2024年度, 'a/b' → 'A至B'."""
    one = (
        pl.element()
        .str.replace(r"^(\d{4})-Q(\d)$", "${1}年第${2}季度")
        .str.replace(r"^(\d{4})-0?(\d{1,2})$", "${1}年${2}月")
        .str.replace(r"^(\d{4})$", "${1}年度")
    )
    return period.str.split("/").list.eval(one).list.join("至").fill_null("")


def _summary_parts(as_of: dt.date) -> dict[str, pl.Expr]:
    place = pl.concat_str(["township", "village", "group_name"], ignore_nulls=True).fill_null("")
    person = pl.format(
        "{}（{}）", pl.col("name").fill_null(""), mask_id_expr(pl.col("id_number")).fill_null("****")
    )
    who = pl.when(pl.col("persons") == 1).then(person).otherwise(pl.format("{}人", pl.col("persons")))
    return {
        "lead": pl.when(place == "").then(who).otherwise(pl.format("{} {}", place, who)),
        "place": pl.when(place == "").then(pl.lit("")).otherwise(pl.format("{} ", place)),
        "period": period_text_expr(pl.col("period")),
        "program": pl.col("program_name").fill_null("补贴"),
        "amount": pl.col("amount_text").fill_null("0.00"),
        "due": pl.col("due_amount_text"),
        "paid": pl.col("paid_amount_text"),
        "due_date": pl.col("due_text").fill_null(""),
        "days": pl.col("days_overdue").fill_null(0),
        "n": pl.col("findings"),
        "persons": pl.col("persons"),
        "card": mask_card_expr(pl.col("card_number")).fill_null("****"),
        "as_of": pl.lit(as_of.isoformat()),
    }


def _templates(p: dict[str, pl.Expr]) -> dict[str, pl.Expr]:
    """One sentence per rule. Clues state data facts only: no accusation a villager could read as one."""
    lead, period, program = p["lead"], p["period"], p["program"]
    return {
        # complaints: what the villager was owed and did not get
        "MISSING": pl.format(
            "{}{}应发{}{}元，截至{}尚未发放，已逾期{}天。",
            lead,
            period,
            program,
            p["amount"],
            p["as_of"],
            p["days"],
        ),
        "FAILED_NOT_REISSUED": pl.format(
            "{}{}{}{}元发放失败，截至{}尚未重新发放，已逾期{}天。",
            lead,
            period,
            program,
            p["amount"],
            p["as_of"],
            p["days"],
        ),
        "UNDERPAID": pl.format(
            "{}{}{}应发{}元，实发{}元，少发{}元。", lead, period, program, p["due"], p["paid"], p["amount"]
        ),
        "BATCH_STALLED": pl.format(
            "{} {}合计{}元 应于{}前发放，截至{}均未发放。",
            lead,
            program,
            p["amount"],
            p["due_date"],
            p["as_of"],
        ),
        # clues: data facts for inspectors
        "SHARED_ACCOUNT": pl.format(
            "同一银行卡（{}）收到{}名不同对象的补贴，共{}笔，合计{}元。",
            p["card"],
            p["persons"],
            p["n"],
            p["amount"],
        ),
        "OVERPAID": pl.format(
            "{}{}{}应发{}元，银行发放记录为{}元。", lead, period, program, p["due"], p["paid"]
        ),
        "DUPLICATE": pl.format(
            "{}{}{}应发{}元，有多笔成功发放记录，合计{}元。", lead, period, program, p["due"], p["paid"]
        ),
        "UNENTITLED": pl.format(
            "{}{}{}有成功发放记录{}元，现行花名册中无对应登记。", lead, period, program, p["paid"]
        ),
        "PAYEE_MISMATCH": pl.format(
            "{}{}{}发放记录{}元的收款户名或卡号与花名册登记不一致。", lead, period, program, p["paid"]
        ),
        "DECEASED_PAYEE": pl.format(
            "{}{}{}有成功发放记录{}元，该期间晚于死亡登记日期。", lead, period, program, p["paid"]
        ),
        "PUBLIC_EMPLOYEE": pl.format(
            "{}{}{}有成功发放记录{}元，其身份证号码在财政供养人员名单中。", lead, period, program, p["paid"]
        ),
        "AMOUNT_OUTLIER": pl.format(
            "{}{}{}有{}笔发放金额明显偏离同项目金额分布，合计{}元。",
            p["place"],
            program,
            period,
            p["n"],
            p["paid"],
        ),
    }


def _fallback_template(p: dict[str, pl.Expr]) -> pl.Expr:
    """The sentence of a rule without a template of its own."""
    return (
        pl.when(pl.col("route") == "complaint")
        .then(
            pl.format(
                "{}{}{}涉及金额{}元，截至{}尚未解决。",
                p["lead"],
                p["period"],
                p["program"],
                p["amount"],
                p["as_of"],
            )
        )
        .otherwise(
            pl.format(
                "{}{}{}数据比对异常{}条，涉及金额{}元。",
                p["lead"],
                p["period"],
                p["program"],
                p["n"],
                p["amount"],
            )
        )
    )


def summary_expr(as_of: dt.date) -> pl.Expr:
    """The Chinese sentence a villager and an inspector both understand (IDs and cards masked)."""
    parts = _summary_parts(as_of)
    expr = _fallback_template(parts)
    for rule, sentence in _templates(parts).items():
        expr = pl.when(pl.col("rule") == rule).then(sentence).otherwise(expr)
    return expr


def case_summaries(cases: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """case_id and summary_expr's sentence, computed the cheap way: each rule's cases get only their own
    template (summary_expr evaluates all thirteen on every case), and the period text is built once per
    distinct period (a night has a handful)."""
    periods = cases.select(pl.col("period").unique())
    texts = periods.with_columns(period_text=period_text_expr(pl.col("period")))
    cases = cases.join(texts, on="period", how="left", nulls_equal=True)
    parts = {**_summary_parts(as_of), "period": pl.col("period_text")}
    templates = _templates(parts)
    frames = [
        part.select("case_id", templates.get(rule, _fallback_template(parts)).alias("summary"))
        for (rule,), part in cases.partition_by("rule", as_dict=True).items()
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"case_id": pl.Utf8, "summary": pl.Utf8})


# ---------------------------------------------------------------------------------------------
# state changes
# ---------------------------------------------------------------------------------------------

# What changes tonight, derived from the stored state before any update (so a re-run finds nothing).
_STAGE_CHANGES_SQL = """
create or replace temp table case_changes as
with live as (
    select
        cur.case_id,
        case
            when c.case_id is null then 'opened'
            when c.status = 'resolved' then 'reopened'
            when c.status = 'open' and $as_of > c.deadline then 'escalated'
        end as event
    from case_current cur
    left join cases c using (case_id)
),
gone as (
    select case_id, 'resolved' as event
    from cases
    where status in ('open', 'escalated')
      and case_id not in (select case_id from case_current)
)
select case_id, event from live where event is not null
union all
select case_id, event from gone
"""

# Every live case with its summary and tonight's event, as ONE table: DuckDB updates from a
# single materialised source in well under a second, from a three-way join far slower.
_STAGE_NEXT_SQL = """
create or replace temp table case_next as
select cur.*, s.summary, ch.event
from case_current cur
join case_summary s using (case_id)
left join case_changes ch using (case_id)
"""

_APPLY_SQL = (
    (
        "open new",
        """
        insert into cases (case_id, rule, route, program_code, program_name, period, case_key, township, village,
                           group_name, persons, amount, department, supervisor, opened_on, deadline, status,
                           reopened_count, last_seen_on, summary)
        select cur.case_id, cur.rule, cur.route, cur.program_code, cur.program_name, cur.period, cur.case_key,
               cur.township, cur.village, cur.group_name, cur.persons, cur.amount, cur.department, cur.supervisor,
               $as_of, $as_of + cur.resolve_days, 'open', 0, $as_of, cur.summary
        from case_next cur
        where cur.event = 'opened'
        order by cur.case_id""",
    ),
    (
        "update live",
        """
        -- one UPDATE per row and night (a row updated twice in one DuckDB transaction is very slow):
        -- every live case is refreshed, and escalated or reopened when tonight says so
        update cases
        set status = case cur.event when 'escalated' then 'escalated' when 'reopened' then 'open' else cases.status end,
            escalated_on = case cur.event when 'escalated' then $as_of when 'reopened' then null else cases.escalated_on end,
            resolved_on = case when cur.event = 'reopened' then null else cases.resolved_on end,
            days_to_resolve = case when cur.event = 'reopened' then null else cases.days_to_resolve end,
            reopened_on = case when cur.event = 'reopened' then $as_of else cases.reopened_on end,
            reopened_count = cases.reopened_count + case when cur.event = 'reopened' then 1 else 0 end,
            deadline = case when cur.event = 'reopened' then $as_of + cur.resolve_days else cases.deadline end,
            program_code = cur.program_code, program_name = cur.program_name, period = cur.period,
            case_key = cur.case_key, township = cur.township, village = cur.village, group_name = cur.group_name,
            persons = cur.persons, amount = cur.amount, department = cur.department, supervisor = cur.supervisor,
            last_seen_on = $as_of, summary = cur.summary
        from case_next cur
        where cases.case_id = cur.case_id and cur.event is distinct from 'opened'""",
    ),
    (
        "resolve",
        """
        update cases
        set status = 'resolved', resolved_on = $as_of,
            days_to_resolve = $as_of - coalesce(cases.reopened_on, cases.opened_on),
            summary = coalesce(cases.summary, '') || strftime($as_of, '%Y-%m-%d') || '复核：该问题已不存在，案件办结。'
        from case_changes ch
        where ch.event = 'resolved' and cases.case_id = ch.case_id""",
    ),
)

_INSERT_EVENTS_SQL = """
insert into case_events (case_id, event, on_date, run_id, status_after, detail, days_to_resolve)
select ch.case_id, ch.event, $as_of, $run_id, $status_after[ch.event], $detail[ch.event],
       case when ch.event = 'resolved' then c.days_to_resolve end
from case_changes ch
join cases c using (case_id)
order by ch.case_id
"""


def _payload_sql(alias: str) -> str:
    """json_object over CASE_FIELDS: the exact object of a cases.jsonl line and of a delivery."""
    pairs = ", ".join(f"'{field}', {alias}.{_FIELD_COLUMN.get(field, field)}" for field in CASE_FIELDS)
    return f"json_object({pairs})"


_INSERT_OUTBOX_SQL = f"""
insert into outbox (idempotency_key, case_id, status, on_date, payload, created_at)
select c.case_id || ':' || c.status || ':' || strftime($as_of, '%Y-%m-%d'), c.case_id, c.status, $as_of,
       {_payload_sql("c")}, current_timestamp::timestamp
from case_changes ch
join cases c using (case_id)
where c.route = 'complaint'
order by c.case_id
on conflict do nothing
"""


def _counts(wh: Warehouse) -> CaseCounts:
    row = wh.rows(
        "cases.counts",
        """
        select
            (select count(*) from case_changes where event = 'opened'),
            (select count(*) from case_changes where event = 'reopened'),
            (select count(*) from case_changes where event = 'escalated'),
            (select count(*) from case_changes where event = 'resolved'),
            (select count(*) from cases where status = 'open'),
            (select count(*) from cases where status = 'escalated')""",
    )[0]
    return CaseCounts(*(int(v) for v in row))


# ---------------------------------------------------------------------------------------------
# reading cases back
# ---------------------------------------------------------------------------------------------

_RECORDS_WHERE = """
from cases c
where c.route = $route
  and (c.status in ('open', 'escalated') or (c.status = 'resolved' and c.resolved_on = $as_of))
order by c.case_id
"""


def case_records(wh: Warehouse, as_of: dt.date, route: str = "complaint") -> pl.DataFrame:
    """The cases of a cases.jsonl (route complaint) or clues.jsonl (route clue): every case open or
    escalated plus those resolved on `as_of`, sorted by case_id, columns exactly CASE_FIELDS."""
    columns = ", ".join(f'c.{_FIELD_COLUMN.get(f, f)} as "{f}"' for f in CASE_FIELDS)
    return wh.frame("cases.records", f"select {columns} {_RECORDS_WHERE}", {"as_of": as_of, "route": route})


def case_listing(wh: Warehouse, as_of: dt.date, route: str = "complaint") -> pl.DataFrame:
    """case_records and, in column `line`, case_json_lines, from one query (the outputs need both)."""
    columns = ", ".join(f'c.{_FIELD_COLUMN.get(f, f)} as "{f}"' for f in CASE_FIELDS)
    return wh.frame(
        "cases.listing",
        f"select {columns}, {_payload_sql('c')} as line {_RECORDS_WHERE}",
        {"as_of": as_of, "route": route},
    )


def case_json_lines(wh: Warehouse, as_of: dt.date, route: str = "complaint") -> list[str]:
    """The same records as JSON text, byte for byte the payload the platform receives."""
    rows = wh.rows(
        "cases.json lines", f"select {_payload_sql('c')} {_RECORDS_WHERE}", {"as_of": as_of, "route": route}
    )
    return [r[0] for r in rows]


def case_history(wh: Warehouse, case_id: str) -> list[str]:
    """Lines for `ykt history CASE_ID`: the case as it stands, then every event in order."""
    summary = wh.rows(
        "cases.history case", "select status, summary from cases where case_id = $id", {"id": case_id}
    )
    if not summary:
        raise UsageError(
            f"找不到案件 {case_id}", hint="案件编号形如 YKT-0123456789ABCDEF，见 cases.jsonl 或 clues.jsonl"
        )
    events = wh.rows(
        "cases.history events",
        """
        select on_date, event, status_after, detail, run_id from case_events
        where case_id = $id order by on_date, rowid""",
        {"id": case_id},
    )
    lines = [f"{case_id}（当前状态：{summary[0][0]}）{summary[0][1] or ''}"]
    lines += [
        f"  {on.isoformat()}  {EVENT_LABELS.get(ev, ev)} → {status}  {detail or ''}  [{run}]"
        for on, ev, status, detail, run in events
    ]
    return lines


# ---------------------------------------------------------------------------------------------
# KPIs
# ---------------------------------------------------------------------------------------------

_KPI_SQL = """
with events as (
    select e.case_id, e.event, e.on_date, e.rowid as seq, e.status_after, e.days_to_resolve, c.department, c.amount
    from case_events e
    join cases c using (case_id)
    where c.route = 'complaint' and e.on_date <= $as_of
),
states as (
    select case_id, any_value(department) as department, any_value(amount) as amount,
           arg_max(status_after, struct_pack(d := on_date, s := seq)) as status
    from events
    group by case_id
),
event_figures as (
    select
        grouping(department) as is_total, coalesce(department, '') as department,
        count(*) filter (where event in ('opened', 'reopened')) as opened,
        count(*) filter (where event = 'resolved') as resolved,
        median(days_to_resolve) filter (where event = 'resolved') as median_days_to_resolve,
        count(*) filter (where event = 'escalated') as escalated
    from events
    group by grouping sets ((department), ())
),
state_figures as (
    select
        grouping(department) as is_total, coalesce(department, '') as department,
        count(*) filter (where status = 'open') as open_now,
        count(*) filter (where status = 'escalated') as escalated_now,
        coalesce(sum(amount) filter (where status in ('open', 'escalated')), 0) as amount_at_stake,
        coalesce(sum(amount) filter (where status = 'resolved'), 0) as amount_recovered
    from states
    group by grouping sets ((department), ())
)
select e.is_total, e.department, e.opened, e.resolved, e.median_days_to_resolve, e.escalated,
       coalesce(s.open_now, 0) as open_now, coalesce(s.escalated_now, 0) as escalated_now,
       coalesce(s.amount_at_stake, 0)::decimal(18, 2) as amount_at_stake,
       coalesce(s.amount_recovered, 0)::decimal(18, 2) as amount_recovered
from event_figures e
left join state_figures s using (is_total, department)
order by e.is_total desc, e.department
"""


def _figures(row: dict) -> KpiFigures:
    opened, resolved = int(row["opened"]), int(row["resolved"])
    median = row["median_days_to_resolve"]
    return KpiFigures(
        opened=opened,
        resolved=resolved,
        resolution_rate=round(resolved / opened, 4) if opened else None,
        median_days_to_resolve=None if median is None else float(median),
        escalated=int(row["escalated"]),
        open_now=int(row["open_now"]),
        escalated_now=int(row["escalated_now"]),
        amount_at_stake=Decimal(row["amount_at_stake"]),
        amount_recovered=Decimal(row["amount_recovered"]),
    )


def case_kpis(wh: Warehouse, as_of: dt.date) -> Kpis:
    """Complaint-case KPIs up to `as_of`, overall and per department (承办部门): 受理, 办结, 办结率,
    median days to resolve, 督办, amount at stake (open + escalated) and amount recovered (resolved).
    Counts come from case_events on or before `as_of`; amounts are the cases' latest amounts."""
    rows = wh.frame("cases.kpis", _KPI_SQL, {"as_of": as_of}).to_dicts()
    totals = [r for r in rows if r["is_total"]]
    empty = {
        "opened": 0,
        "resolved": 0,
        "median_days_to_resolve": None,
        "escalated": 0,
        "open_now": 0,
        "escalated_now": 0,
        "amount_at_stake": 0,
        "amount_recovered": 0,
    }
    overall = _figures(totals[0] if totals else empty)
    departments = tuple(DepartmentKpis(r["department"], _figures(r)) for r in rows if not r["is_total"])
    return Kpis(as_of=as_of, overall=overall, departments=departments)
