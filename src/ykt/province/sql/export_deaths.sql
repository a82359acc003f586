-- A county's death register (earliest date per person), for the province lake.
with final as (
    select
        id_number,
        min(name) as name,
        min(death_date) as death_date,
        $county as county
    from deaths
    group by id_number
)

select * from final
