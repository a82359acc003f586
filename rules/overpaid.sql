-- OVERPAID 超标准发放: exactly one successful payment, above due + tolerance
-- (two or more successes are DUPLICATE instead).
with entitlements as (
    select * from reconciliation
    where is_entitled
),

over as (
    select * from entitlements
    where successes = 1
      and paid_total > amount_due + tolerance
),

final as (
    select
        program_code,
        period,
        id_number,
        name,
        card_number,
        township,
        village,
        group_name,
        amount_due,
        paid_total                  as amount_paid,
        due_date,
        first_success_date          as paid_date,
        days_overdue,
        format('应发 {} 元，实发 {} 元，多发 {} 元',
               amount_due::varchar, paid_total::varchar, (paid_total - amount_due)::varchar) as detail,
        id_number                   as case_key,
        period                      as case_period
    from over
)

select * from final
