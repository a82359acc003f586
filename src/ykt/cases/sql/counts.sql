with final as (
    select
        (
            select count(*) as n from case_changes as ch
            where ch.event = 'opened'
        ) as opened,
        (
            select count(*) as n from case_changes as ch
            where ch.event = 'reopened'
        ) as reopened,
        (
            select count(*) as n from case_changes as ch
            where ch.event = 'escalated'
        ) as escalated,
        (
            select count(*) as n from case_changes as ch
            where ch.event = 'resolved'
        ) as resolved,
        (
            select count(*) as n from cases as c
            where c.status = 'open'
        ) as open_total,
        (
            select count(*) as n from cases as c
            where c.status = 'escalated'
        ) as escalated_total
)

select * from final
