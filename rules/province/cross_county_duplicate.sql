-- CROSS_COUNTY_DUPLICATE 跨县重复领取: the same person paid successfully for the same program and
-- period in two or more counties. One finding per person, program and period.
with successes as (
    select
        county,
        program,
        period,
        id_number,
        name,
        amount,
        hash(id_number) as id_hash
    from payments
    where status = 'success'
),

candidates as (
    -- the few people paid in more than one county, found by grouping every payment by one number per
    -- person (not by three texts per person, program and period: 6x the groups); a hash collision only
    -- adds a candidate, as the keys are compared as texts below
    select id_hash
    from successes
    group by id_hash
    having min(county) <> max(county)
),

paid as (
    select
        county,
        program,
        period,
        id_number,
        min(name) as name,
        sum(amount) as amount
    from successes
    where id_hash in (select c.id_hash from candidates as c)
    group by county, program, period, id_number
),

twice as (
    select
        program,
        period,
        id_number,
        min(name) as name,
        array_sort(array_agg(county)) as counties,
        count(*) as county_count,
        sum(amount) as amount
    from paid
    group by program, period, id_number
    having count(*) > 1
),

final as (
    select
        t.program as program_code,
        t.period,
        t.id_number,
        t.name,
        t.counties,
        t.amount,
        concat(
            coalesce(p.name, t.program), ' ', t.period, ' 期在 ', cast(t.county_count as varchar),
            ' 个县均成功发放（', array_to_string(t.counties, '、'), '），合计 ', cast(t.amount as varchar), ' 元'
        ) as detail
    from twice as t
    left join programs as p
        on t.program = p.code
)

select * from final
