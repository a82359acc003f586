-- PUBLIC_EMPLOYEE 财政供养人员违规领取: a successful payment of a means-tested program to
-- someone on the public-employee list. One finding per payment; one clue per person and program.
with employees as (
    select id_number, string_agg(distinct employer, '、' order by employer) as employers
    from public_employees
    group by id_number
),

means_tested as (
    select code, name
    from programs_cfg
    where means_tested
),

paid as (
    select p.*, m.name as program_name
    from payments_asof as p
    join means_tested as m
        on m.code = p.program_code
    where p.status = 'success'
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
        format('领取人在财政供养人员名单中（工作单位：{}），{} 仍成功发放 {} {} 期 {} 元；该项目须经家庭经济状况审核',
               coalesce(w.employers, '未注明'), p.pay_date, p.program_name, p.period, p.amount::varchar) as detail,
        p.id_number                                     as case_key,
        ''                                              as case_period
    from paid as p
    join employees as w
        on w.id_number = p.id_number
    left join entitlements_current as e
        on  e.id_number = p.id_number
        and e.program_code = p.program_code
        and e.period = p.period
)

select * from final
