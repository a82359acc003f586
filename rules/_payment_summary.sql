-- One row per (id_number, program_code, period) with any payment row on or before as_of.
-- Built once per run; every per-entitlement rule reads it through `reconciliation`.
-- Text attributes take min() so the result is the same whatever the scan order.
with payments as (
    select * from payments_asof
),

final as (
    select
        id_number,
        program_code,
        period,
        count(*) filter (where status = 'success')                          as successes,
        coalesce(sum(amount) filter (where status = 'success'), 0)          as paid_total,
        min(pay_date) filter (where status = 'success')                     as first_success_date,
        max(pay_date) filter (where status = 'success')                     as last_success_date,
        count(*) filter (where status = 'failure')                          as failures,
        min(pay_date) filter (where status = 'failure')                     as first_failure_date,
        -- the bank's latest reason is the one still blocking the money
        max_by(failure_reason, struct_pack(d := pay_date, r := failure_reason))
            filter (where status = 'failure')                               as last_failure_reason,
        count(*) filter (where status = 'stopped')                          as stops,
        -- ranges of account holders and cards: equal min and max means one value
        min(payee_name) filter (where status = 'success')                   as min_payee,
        max(payee_name) filter (where status = 'success')                   as max_payee,
        min(card_number) filter (where status = 'success')                  as min_card,
        max(card_number) filter (where status = 'success')                  as max_card,
        -- where a payment has no roster row, the bank's own attributes describe it
        min(name) filter (where status = 'success')                         as paid_name,
        min(township) filter (where status = 'success')                     as paid_township,
        min(village) filter (where status = 'success')                      as paid_village,
        min(group_name) filter (where status = 'success')                   as paid_group_name
    from payments
    group by id_number, program_code, period
)

select * from final
