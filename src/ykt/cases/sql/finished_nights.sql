-- The dates of the nights that ran to their end, latest first.
with final as (
    select distinct r.as_of
    from runs as r
    where r.finished_at is not null
)

select * from final
order by final.as_of desc
