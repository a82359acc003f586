-- DUPLICATE 重复发放: two or more successful payments for one (id_number, program, period),
-- with or without a roster row; one finding per key.
with keys as (
    select * from reconciliation
),

repeated as (
    select * from keys
    where successes >= 2
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
        format('{} 期成功发放 {} 次（{} 至 {}），合计 {} 元，{}',
               period, successes, first_success_date, last_success_date, paid_total::varchar,
               case when is_entitled then format('应发 {} 元', amount_due::varchar)
                    else '花名册无该期应发记录' end) as detail,
        id_number                   as case_key,
        period                      as case_period
    from repeated
)

select * from final
