with final as (
    select max(e.on_date) as latest
    from case_events as e
)

select * from final
