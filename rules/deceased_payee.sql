-- DECEASED_PAYEE 死亡冒领: a successful payment for a period that starts after the
-- beneficiary's death. A death within the period (e.g. the same month) is not flagged.
-- One finding per payment; one clue per person and program. (returns: payments)
with deaths_by_person as (
    -- two registers may both list a person: the earliest date counts
    select id_number, min(death_date) as death_date
    from deaths
    group by id_number
),

paid_to_dead as (
    -- narrow: the register is small, so this join touches few payments
    select
        p.payment_row,
        p.program_code,
        p.period,
        p.id_number,
        p.pay_date,
        p.amount,
        p.payee_name,
        d.death_date,
        case
            when p.period like '____-Q_'
                then make_date(left(p.period, 4)::integer, 3 * right(p.period, 1)::integer - 2, 1)
            when length(p.period) = 4
                then make_date(p.period::integer, 1, 1)
            else make_date(left(p.period, 4)::integer, substr(p.period, 6, 2)::integer, 1)
        end                                             as period_start
    from payments_asof as p
    join deaths_by_person as d
        on d.id_number = p.id_number
    where p.status = 'success'
)

select
    payment_row,
    program_code,
    format('死亡登记显示该对象已于 {} 死亡，{} 仍成功发放 {} 期补贴 {} 元（收款户名 {}）',
           death_date, pay_date, period, amount::varchar, coalesce(payee_name, '未知')) as detail,
    id_number                                           as case_key,
    ''                                                  as case_period
from paid_to_dead
where period_start > death_date
