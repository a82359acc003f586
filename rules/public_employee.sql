-- PUBLIC_EMPLOYEE 财政供养人员违规领取: a successful payment of a means-tested program to
-- someone on the public-employee list. One finding per payment; one clue per person and
-- program. (returns: payments)
with employees as (
    select
        id_number,
        hash(id_number) as id_hash,
        string_agg(distinct employer, '、' order by employer) as employers
    from public_employees
    group by id_number
),

means_tested as (
    select
        code,
        name,
        hash(code) as program_hash
    from programs_cfg
    where means_tested
),

employee_successes as materialized (
    -- the list is small: its people's successes are found on the narrow table by id hash
    -- (materialized, so this small join runs first, not the program filter over every payment)
    select
        s.payment_row,
        s.program_hash,
        w.id_number,
        w.employers
    from successful_payments as s
    inner join employees as w
        on s.id_hash = w.id_hash
),

employee_payments as materialized (
    -- read whole by row id: the IN list lets the scan skip every other row
    select
        p.payment_row,
        p.program_code,
        p.period,
        p.id_number,
        p.pay_date,
        p.amount
    from payments_asof as p
    where p.payment_row in (select payment_row from employee_successes)
),

flagged_payments as (
    -- matched on the real id and program
    select
        p.payment_row,
        p.program_code,
        p.period,
        p.id_number,
        p.pay_date,
        p.amount,
        e.employers,
        m.name as program_name
    from employee_successes as e
    inner join means_tested as m
        on e.program_hash = m.program_hash
    inner join employee_payments as p
        on e.payment_row = p.payment_row and e.id_number = p.id_number and m.code = p.program_code
),

final as (
    select
        payment_row,
        program_code,
        format(
            '领取人在财政供养人员名单中（工作单位：{}），{} 仍成功发放 {} {} 期 {} 元；该项目须经家庭经济状况审核',
            coalesce(employers, '未注明'), pay_date, program_name, period, amount::varchar
        ) as detail,
        id_number as case_key,
        '' as case_period
    from flagged_payments
)

select * from final
