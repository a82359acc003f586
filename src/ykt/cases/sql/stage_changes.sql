-- What changes tonight, derived from the stored state before any update (so a re-run finds nothing).
create or replace temp table case_changes as
with live as (
    select
        cur.case_id,
        case
            when c.case_id is null then 'opened'
            when c.status = 'resolved' then 'reopened'
            when c.status = 'open' and $as_of > c.deadline then 'escalated'
        end as event
    from case_current as cur
    left join cases as c on cur.case_id = c.case_id
),

gone as (
    select
        c.case_id,
        'resolved' as event
    from cases as c
    where
        c.status in ('open', 'escalated')
        and c.case_id not in (select cur.case_id from case_current as cur)
),

final as (
    select
        live.case_id,
        live.event
    from live
    where live.event is not null
    union all
    select
        gone.case_id,
        gone.event
    from gone
)

select * from final
