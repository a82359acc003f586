with events as (
    select
        e.case_id,
        e.event,
        e.on_date,
        e.rowid as seq,
        e.status_after,
        e.days_to_resolve,
        c.department,
        c.amount
    from case_events as e
    inner join cases as c on e.case_id = c.case_id
    where c.route = 'complaint' and e.on_date <= $as_of
),

states as (
    select
        case_id,
        any_value(department) as department,
        any_value(amount) as amount,
        arg_max(status_after, struct_pack(d := on_date, s := seq)) as status
    from events
    group by case_id
),

event_figures as (
    select
        grouping(department) as is_total,
        coalesce(department, '') as department,
        count(*) filter (where event in ('opened', 'reopened')) as opened,
        count(*) filter (where event = 'resolved') as resolved,
        median(days_to_resolve) filter (where event = 'resolved') as median_days_to_resolve,
        count(*) filter (where event = 'escalated') as escalated
    from events
    group by grouping sets ((department), ())
),

state_figures as (
    select
        grouping(department) as is_total,
        coalesce(department, '') as department,
        count(*) filter (where status = 'open') as open_now,
        count(*) filter (where status = 'escalated') as escalated_now,
        coalesce(sum(amount) filter (where status in ('open', 'escalated')), 0) as amount_at_stake,
        coalesce(sum(amount) filter (where status = 'resolved'), 0) as amount_recovered
    from states
    group by grouping sets ((department), ())
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
        coalesce(s.amount_at_stake, 0)::decimal(18, 2) as amount_at_stake,
        coalesce(s.amount_recovered, 0)::decimal(18, 2) as amount_recovered
    from event_figures as e
    left join state_figures as s on e.is_total = s.is_total and e.department = s.department
)

select * from final
order by final.is_total desc, final.department asc
