-- FAILED_NOT_REISSUED 发放失败未重发: every attempt failed and the re-issue window has passed.
with entitlements as (
    select * from reconciliation
    where is_entitled
),

failed as (
    select * from entitlements
    where failures > 0
      and successes = 0
      and first_failure_date + reissue_days < $as_of
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
        format('{} 首次发放失败（{}），共失败 {} 次，超过重发时限 {} 天仍未重新发放，应发 {} 元',
               first_failure_date, coalesce(last_failure_reason, '银行未注明原因'), failures,
               reissue_days, amount_due::varchar) as detail,
        id_number                   as case_key,
        period                      as case_period
    from failed
)

select * from final
