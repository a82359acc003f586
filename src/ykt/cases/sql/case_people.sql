-- The person a case is about as the roster names them, for a case no finding holds any more (resolved):
-- cases keyed by an ID number (one villager) find their current roster rows of the case's program and
-- period; other cases (a card, a village group) find none.
with the_case as (
    select
        c.case_key,
        c.program_code,
        c.period
    from cases as c
    where c.case_id = $id
),

final as (
    select
        e.program_code,
        e.period,
        e.id_number,
        e.name,
        e.card_number,
        e.township,
        e.village,
        e.group_name,
        e.amount_due,
        e.due_date
    from entitlements as e
    inner join the_case as k
        on
            e.id_number = k.case_key
            and e.program_code = k.program_code
            and e.period = k.period
    where e.superseded_by is null
)

select * from final
order by final.name
