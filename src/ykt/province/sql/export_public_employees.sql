-- A county's public-employee reference list, for the province lake.
with final as (
    select distinct
        id_number,
        name,
        employer,
        $county as county
    from public_employees
)

select * from final
