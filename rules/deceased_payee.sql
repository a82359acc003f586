-- DECEASED_PAYEE 死亡冒领: a successful payment for a period that starts after the
-- beneficiary's death. A death within the period (e.g. the same month) is not flagged.
-- One finding per payment; one clue per person and program.
with deaths_by_person as (
    -- two registers may both list a person: the earliest date counts
    select id_number, min(death_date) as death_date
    from deaths
    group by id_number
),

paid as (
    select * from payments_asof
    where status = 'success'
),

paid_to_dead as (
    select
        p.*,
        d.death_date,
        case
            when p.period like '____-Q_'
                then make_date(left(p.period, 4)::integer, 3 * right(p.period, 1)::integer - 2, 1)
            when length(p.period) = 4
                then make_date(p.period::integer, 1, 1)
            else make_date(left(p.period, 4)::integer, substr(p.period, 6, 2)::integer, 1)
        end as period_start
    from paid as p
    join deaths_by_person as d
        on d.id_number = p.id_number
),

final as (
    select
        p.program_code,
        p.period,
        p.id_number,
        coalesce(e.name, p.name)                        as name,
        p.card_number,
        coalesce(e.township, p.township)                as township,
        coalesce(e.village, p.village)                  as village,
        coalesce(e.group_name, p.group_name)            as group_name,
        e.amount_due,
        p.amount                                        as amount_paid,
        e.due_date,
        p.pay_date                                      as paid_date,
        date_diff('day', e.due_date, p.pay_date)        as days_overdue,
        format('死亡登记显示该对象已于 {} 死亡，{} 仍成功发放 {} 期补贴 {} 元（收款户名 {}）',
               p.death_date, p.pay_date, p.period, p.amount::varchar, coalesce(p.payee_name, '未知')) as detail,
        p.id_number                                     as case_key,
        ''                                              as case_period
    from paid_to_dead as p
    left join entitlements_current as e
        on  e.id_number = p.id_number
        and e.program_code = p.program_code
        and e.period = p.period
    where p.period_start > p.death_date
)

select * from final
