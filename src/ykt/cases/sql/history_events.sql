with final as (
    select
        e.on_date,
        e.event,
        e.status_after,
        e.detail,
        e.run_id,
        e.rowid as seq
    from case_events as e
    where e.case_id = $id
)

select * from final
order by final.on_date, final.seq
