-- CROSS_COUNTY_DECEASED 跨县死亡冒领: a successful payment in one county for a period that starts
-- after the person's death in another county's death register. The county's own rule
-- (DECEASED_PAYEE) sees its own register only. One finding per person, program and period.
with died as (
    select
        id_number,
        min(death_date) as death_date,
        list_sort(list(distinct county)) as death_counties
    from deaths
    group by id_number
),

paid as (
    -- the register is small: only its people's payments are aggregated (a semi-join first)
    select
        county,
        program,
        period,
        id_number,
        min(name) as name,
        sum(amount) as amount
    from payments
    where status = 'success' and id_number in (select d.id_number from died as d)
    group by county, program, period, id_number
),

paid_to_listed as (
    select
        p.*,
        d.death_date,
        d.death_counties,
        case
            when regexp_full_match(p.period, '\d{4}-\d{2}') then strptime(p.period || '-01', '%Y-%m-%d')::date
            when regexp_full_match(p.period, '\d{4}-Q[1-4]')
                then make_date(left(p.period, 4)::integer, (right(p.period, 1)::integer - 1) * 3 + 1, 1)
            when regexp_full_match(p.period, '\d{4}') then make_date(p.period::integer, 1, 1)
        end as period_start
    from paid as p
    inner join died as d
        on p.id_number = d.id_number
    where not list_contains(d.death_counties, p.county)
),

final as (
    select
        l.program as program_code,
        l.period,
        l.id_number,
        l.name,
        list_sort(list_distinct(list_append(l.death_counties, l.county))) as counties,
        l.amount,
        format(
            '县 {} 死亡人员名单记载其 {} 死亡，县 {} 仍成功发放 {} {} 期 {} 元',
            array_to_string(l.death_counties, '、'), l.death_date, l.county,
            coalesce(g.name, l.program), l.period, l.amount::varchar
        ) as detail
    from paid_to_listed as l
    left join programs as g
        on l.program = g.code
    where l.period_start > l.death_date
)

select * from final
