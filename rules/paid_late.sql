-- PAID_LATE 发放不及时 (record only): the earliest successful payment came after due + grace.
-- Only the first success counts, so a later duplicate never makes a timely payment late.
with entitlements as (
    select * from reconciliation
    where is_entitled
),

late as (
    select * from entitlements
    where first_success_date > late_after
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
        format('应发日期 {}（宽限 {} 天），实际 {} 才发放，晚 {} 天',
               due_date, grace_days, first_success_date, days_overdue) as detail,
        id_number                   as case_key,
        period                      as case_period
    from late
)

select * from final
