insert into outbox (idempotency_key, case_id, status, on_date, payload, created_at)
with final as (
    select
        o.case_id || ':' || o.status || ':' || strftime($as_of, '%Y-%m-%d') as idempotency_key,
        o.case_id,
        o.status,
        $as_of as on_date,
        to_json(o.case_object) as payload,
        current_timestamp::timestamp as created_at
    from case_changes as ch
    inner join case_objects as o on ch.case_id = o.case_id
    where o.route = 'complaint'
)

select * from final
order by final.case_id
on conflict do nothing
