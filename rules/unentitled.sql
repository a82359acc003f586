-- UNENTITLED 无依据发放: successful payment(s) for a key with no current roster row;
-- one finding per key (rows superseded by a corrected roster do not count).
with keys as (
    select * from reconciliation
),

unentitled as (
    select * from keys
    where not is_entitled
      and successes > 0
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
        null::decimal(18, 2)        as amount_due,
        paid_total                  as amount_paid,
        null::date                  as due_date,
        first_success_date          as paid_date,
        null::integer               as days_overdue,
        format('{} 期成功发放 {} 笔共 {} 元，但现行花名册中没有该对象该期的应发记录',
               period, successes, paid_total::varchar) as detail,
        id_number                   as case_key,
        period                      as case_period
    from unentitled
)

select * from final
