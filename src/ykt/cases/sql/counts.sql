-- The night's state changes (all routes) and the totals after it.
with changes as (
    select
        count(*) filter (where ch.event = 'opened') as opened,
        count(*) filter (where ch.event = 'reopened') as reopened,
        count(*) filter (where ch.event = 'escalated') as escalated,
        count(*) filter (where ch.event = 'resolved') as resolved
    from case_changes as ch
),

totals as (
    select
        count(*) filter (where c.status = 'open') as open_total,
        count(*) filter (where c.status = 'escalated') as escalated_total
    from cases as c
),

final as (
    select
        changes.opened,
        changes.reopened,
        changes.escalated,
        changes.resolved,
        totals.open_total,
        totals.escalated_total
    from changes
    cross join totals
)

select * from final
