-- DECEASED_PAYEE 死亡冒领: a successful payment for a period that starts after the
-- beneficiary's death. A death within the period (e.g. the same month) is not flagged.
-- One finding per payment; one clue per person and program. (returns: payments)
with deaths_by_person as (
    -- two registers may both list a person: the earliest date counts
    select
        id_number,
        hash(id_number) as id_hash,
        min(death_date) as death_date
    from deaths
    group by id_number
),

listed_successes as materialized (
    -- the register is small: its people's successes are found on the narrow table by id hash
    -- (materialized, so this small join runs first and the wide rows below are read by row id)
    select
        s.payment_row,
        d.id_number,
        d.death_date
    from successful_payments as s
    inner join deaths_by_person as d
        on s.id_hash = d.id_hash
),

paid_to_dead as materialized (
    -- read whole by row id (the IN list lets the scan skip every other row) and matched on the
    -- real id; materialized, so the period arithmetic below runs on these few rows only
    select
        p.payment_row,
        p.program_code,
        p.period,
        p.id_number,
        p.pay_date,
        p.amount,
        p.payee_name,
        l.death_date
    from payments_asof as p
    inner join listed_successes as l
        on p.payment_row = l.payment_row and p.id_number = l.id_number
    where p.payment_row in (select payment_row from listed_successes)
),

dated as (
    select
        *,
        case
            when period like '____-Q_'
                then make_date(left(period, 4)::integer, 3 * right(period, 1)::integer - 2, 1)
            when length(period) = 4
                then make_date(period::integer, 1, 1)
            else make_date(left(period, 4)::integer, substr(period, 6, 2)::integer, 1)
        end as period_start
    from paid_to_dead
),

final as (
    select
        payment_row,
        program_code,
        format(
            '死亡登记显示该对象已于 {} 死亡，{} 仍成功发放 {} 期补贴 {} 元（收款户名 {}）',
            death_date, pay_date, period, amount::varchar, coalesce(payee_name, '未知')
        ) as detail,
        id_number as case_key,
        '' as case_period
    from dated
    where period_start > death_date
)

select * from final
