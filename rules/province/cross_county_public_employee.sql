-- CROSS_COUNTY_PUBLIC_EMPLOYEE 跨县财政供养人员领取: a person on one county's public-employee list
-- on another county's roster of a means-tested program (低保, 特困…). The county's own rule
-- (PUBLIC_EMPLOYEE) sees its own list only. One finding per person, program and period.
with employees as (
    select
        id_number,
        list_sort(list(distinct county)) as employer_counties,
        string_agg(distinct employer, '、' order by employer) as employers
    from public_employees
    group by id_number
),

rostered as (
    select
        e.county,
        e.program,
        e.period,
        e.id_number,
        min(e.name) as name,
        sum(e.amount_due) as amount,
        min(p.name) as program_name
    from entitlements as e
    inner join programs as p
        on e.program = p.code
    -- the lists are small: only their people's roster rows are aggregated (a semi-join first)
    where p.means_tested and e.id_number in (select w.id_number from employees as w)
    group by e.county, e.program, e.period, e.id_number
),

final as (
    select
        r.program as program_code,
        r.period,
        r.id_number,
        r.name,
        list_sort(list_distinct(list_append(w.employer_counties, r.county))) as counties,
        r.amount,
        format(
            '县 {} 财政供养人员名单中的人员（工作单位：{}）列入县 {} 的{} {} 期花名册，应发 {} 元；该项目须经家庭经济状况审核',
            array_to_string(w.employer_counties, '、'), coalesce(w.employers, '未注明'), r.county,
            r.program_name, r.period, r.amount::varchar
        ) as detail
    from rostered as r
    inner join employees as w
        on r.id_number = w.id_number
    where not list_contains(w.employer_counties, r.county)
)

select * from final
