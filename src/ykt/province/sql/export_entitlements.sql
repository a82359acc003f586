-- A county's current roster rows (not superseded by a corrected roster), for the province lake.
with final as (
    select
        id_number,
        name,
        township,
        village,
        amount_due,
        due_date,
        $county as county,
        program_code as program,
        period
    from entitlements
    where superseded_by is null
)

select * from final
