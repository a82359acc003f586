-- The findings behind one case on the latest night that had any (the people it is about).
with latest as (
    select max(f.as_of) as as_of
    from findings as f
    where f.case_id = $id
),

final as (
    select
        f.as_of,
        f.rule,
        f.program_code,
        f.period,
        f.id_number,
        f.name,
        f.card_number,
        f.township,
        f.village,
        f.group_name,
        f.amount_due,
        f.amount_paid,
        f.due_date,
        f.paid_date,
        f.days_overdue,
        f.detail
    from findings as f
    inner join latest as l on f.as_of = l.as_of
    where f.case_id = $id
)

select * from final
order by final.township, final.village, final.group_name, final.name, final.period
