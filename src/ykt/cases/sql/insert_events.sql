insert into case_events (case_id, event, on_date, run_id, status_after, detail, days_to_resolve)
with final as (
    select
        ch.case_id,
        ch.event,
        $as_of as on_date,
        $run_id as run_id,
        $status_after[ch.event] as status_after,
        $detail[ch.event] as detail,
        case when ch.event = 'resolved' then c.days_to_resolve end as days_to_resolve
    from case_changes as ch
    inner join cases as c on ch.case_id = c.case_id
)

select * from final
order by final.case_id
