with final as (
    select
        c.status,
        c.summary
    from cases as c
    where c.case_id = $id
)

select * from final
