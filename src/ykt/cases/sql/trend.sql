-- Complaint cases opened (and reopened) and resolved on each of the $nights nights up to $as_of,
-- one row per calendar day (a night without events shows zeros): the workbook's trend chart.
with days as (
    select unnest(generate_series($as_of::date - ($nights - 1)::integer, $as_of::date, interval 1 day))::date
        as on_date
),

counted as (
    select
        e.on_date,
        count(*) filter (where e.event in ('opened', 'reopened')) as opened,
        count(*) filter (where e.event = 'resolved') as resolved
    from case_events as e
    inner join cases as c on e.case_id = c.case_id
    where c.route = 'complaint' and e.on_date between $as_of::date - ($nights - 1)::integer and $as_of
    group by e.on_date
),

final as (
    select
        d.on_date,
        coalesce(c.opened, 0)::integer as opened,
        coalesce(c.resolved, 0)::integer as resolved
    from days as d
    left join counted as c on d.on_date = c.on_date
)

select * from final
order by final.on_date
