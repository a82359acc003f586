-- Every payment row of a county (all statuses: the province rules decide which count), for the province lake.
with final as (
    select
        id_number,
        name,
        township,
        village,
        amount,
        pay_date,
        status,
        $county as county,
        program_code as program,
        period
    from payments
)

select * from final
