-- MISSING 应发未发: past due + grace at as_of, nothing paid, no failed attempt, not stopped.
with entitlements as (
    select * from reconciliation
    where is_entitled
),

unpaid as (
    select * from entitlements
    where $as_of > late_after
      and successes = 0
      and failures = 0
      and stops = 0    -- 已停发: stopped on purpose, not a payment owed
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
        0.00::decimal(18, 2)        as amount_paid,
        due_date,
        null::date                  as paid_date,
        days_overdue,
        format('应发 {} 元，应发日期 {}，截至 {} 仍未发放，已逾期 {} 天',
               amount_due::varchar, due_date, $as_of, days_overdue) as detail,
        id_number                   as case_key,
        period                      as case_period
    from unpaid
)

select * from final
