-- The cases of one route a night lists: every case open or escalated plus those resolved that night.
with final as (
    select
        -- the object's fields as columns, named by the object itself
        unnest(o.case_object),  -- noqa: AL03
        to_json(o.case_object) as line
    from case_objects as o
    where
        o.route = $route
        and (o.status in ('open', 'escalated') or (o.status = 'resolved' and o.resolved_on = $as_of))
)

select * from final
order by final.case_id
