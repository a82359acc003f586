-- One case as a page shows it: the case's own fields (CASE_FIELDS) with its route and history dates.
with final as (
    select
        o.route,
        c.escalated_on,
        c.reopened_on,
        c.reopened_count,
        c.last_seen_on,
        unnest(o.case_object)  -- noqa: AL03
    from case_objects as o
    inner join cases as c on o.case_id = c.case_id
    where o.case_id = $id
)

select * from final
