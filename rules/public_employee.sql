-- PUBLIC_EMPLOYEE 财政供养人员违规领取: a successful payment of a means-tested program to
-- someone on the public-employee list. One finding per payment; one clue per person and
-- program. (returns: payments)
with employees as (
    select id_number, string_agg(distinct employer, '、' order by employer) as employers
    from public_employees
    group by id_number
),

means_tested as (
    select code, name
    from programs_cfg
    where means_tested
)

select
    p.payment_row,
    p.program_code,
    format('领取人在财政供养人员名单中（工作单位：{}），{} 仍成功发放 {} {} 期 {} 元；该项目须经家庭经济状况审核',
           coalesce(w.employers, '未注明'), p.pay_date, m.name, p.period, p.amount::varchar) as detail,
    p.id_number                                         as case_key,
    ''                                                  as case_period
from payments_asof as p
join employees as w
    on w.id_number = p.id_number
join means_tested as m
    on m.code = p.program_code
where p.status = 'success'
