-- A county's open and escalated cases (complaints and clues), for the province lake.
with final as (
    select
        case_id,
        rule,
        route,
        program_code,
        period,
        status,
        persons,
        amount,
        department,
        opened_on,
        $county as county
    from cases
    where status in ('open', 'escalated')
)

select * from final
