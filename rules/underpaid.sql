-- UNDERPAID 不足额发放: something was paid, but less than due − tolerance.
with entitlements as (
    select * from reconciliation
    where is_entitled
),

short as (
    select * from entitlements
    where paid_total > 0
      and paid_total < amount_due - tolerance
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
        format('应发 {} 元，实发 {} 元，少发 {} 元',
               amount_due::varchar, paid_total::varchar, (amount_due - paid_total)::varchar) as detail,
        id_number                   as case_key,
        period                      as case_period
    from short
)

select * from final
