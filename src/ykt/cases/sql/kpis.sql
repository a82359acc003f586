-- The KPIs of docs/kpis.md up to $as_of, per department (承办部门) and overall (is_total).
-- Complaint cases (a villager was harmed) give 受理/办结/办结率/督办/逾期, 涉及金额 (still owed) and
-- 已到账 (arrived after the case); clue cases (improper payments) give 线索, 存疑金额 and 已追回:
-- money the bank detail shows RETURNED for a resolved clue's person, program and period. A late
-- payment that arrived is never 已追回.
with events as (
    select
        e.case_id,
        e.event,
        e.on_date,
        e.rowid as seq,
        e.status_after,
        e.days_to_resolve,
        c.route,
        c.department,
        c.amount,
        c.deadline,
        c.case_key,
        c.program_code,
        c.period
    from case_events as e
    inner join cases as c on e.case_id = c.case_id
    where e.on_date <= $as_of
),

states as (
    select
        case_id,
        any_value(route) as route,
        any_value(department) as department,
        any_value(amount) as amount,
        any_value(deadline) as deadline,
        any_value(case_key) as case_key,
        any_value(program_code) as program_code,
        any_value(period) as period,
        arg_max(status_after, struct_pack(d := on_date, s := seq)) as status,
        max(on_date) filter (where event in ('opened', 'reopened')) as opened_on,
        max(on_date) filter (where event = 'resolved') as resolved_on
    from events
    group by case_id
),

returned as (
    -- money the bank returned for a resolved clue, after the clue was opened and by its resolution
    select
        s.case_id,
        least(s.amount, sum(p.amount)) as amount
    from states as s
    inner join payments as p
        on
            s.case_key = p.id_number
            and s.program_code = p.program_code
            and s.period = p.period
    where
        s.route = 'clue'
        and s.status = 'resolved'
        and p.status = 'returned'
        and p.pay_date between s.opened_on and s.resolved_on
    group by s.case_id, s.amount
),

event_figures as (
    select
        grouping(department) as is_total,
        coalesce(department, '') as department,
        count(*) filter (where route = 'complaint' and event in ('opened', 'reopened')) as opened,
        count(*) filter (where route = 'complaint' and event = 'resolved') as resolved,
        median(days_to_resolve) filter (
            where route = 'complaint' and event = 'resolved'
        ) as median_days_to_resolve,
        count(*) filter (where route = 'complaint' and event = 'escalated') as escalated
    from events
    group by grouping sets ((department), ())
),

state_figures as (
    select
        grouping(s.department) as is_total,
        coalesce(s.department, '') as department,
        count(*) filter (where s.route = 'complaint' and s.status = 'open') as open_now,
        count(*) filter (where s.route = 'complaint' and s.status = 'escalated') as escalated_now,
        count(*) filter (
            where s.route = 'complaint' and s.status in ('open', 'escalated') and s.deadline < $as_of
        ) as overdue_now,
        coalesce(sum(s.amount) filter (
            where s.route = 'complaint' and s.status in ('open', 'escalated')
        ), 0) as amount_at_stake,
        coalesce(sum(s.amount) filter (where s.route = 'complaint' and s.status = 'resolved'), 0) as amount_paid,
        count(*) filter (where s.route = 'clue' and s.status in ('open', 'escalated')) as clues_open,
        coalesce(sum(s.amount) filter (
            where s.route = 'clue' and s.status in ('open', 'escalated')
        ), 0) as amount_in_question,
        coalesce(sum(r.amount), 0) as amount_recovered
    from states as s
    left join returned as r on s.case_id = r.case_id
    group by grouping sets ((s.department), ())
),

final as (
    select
        e.is_total,
        e.department,
        e.opened,
        e.resolved,
        e.median_days_to_resolve,
        e.escalated,
        coalesce(s.open_now, 0) as open_now,
        coalesce(s.escalated_now, 0) as escalated_now,
        coalesce(s.overdue_now, 0) as overdue_now,
        coalesce(s.amount_at_stake, 0)::decimal(18, 2) as amount_at_stake,
        coalesce(s.amount_paid, 0)::decimal(18, 2) as amount_paid,
        coalesce(s.clues_open, 0) as clues_open,
        coalesce(s.amount_in_question, 0)::decimal(18, 2) as amount_in_question,
        coalesce(s.amount_recovered, 0)::decimal(18, 2) as amount_recovered
    from event_figures as e
    left join state_figures as s on e.is_total = s.is_total and e.department = s.department
)

select * from final
order by final.is_total desc, final.department asc
