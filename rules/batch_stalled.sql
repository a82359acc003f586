-- BATCH_STALLED 整批滞留未发: at least $batch_stalled_min_persons MISSING findings of one
-- program, township, village, group and period become one case. The runner then re-points
-- those MISSING findings to this case (rules.yaml: absorbs), so they open no case of their own.
-- Runs after PROGRAM_STALLED (a whole program and period unpaid), whose groups it leaves to it.
with missing as (
    -- a program and period stalled as a whole is PROGRAM_STALLED's one case: its groups are not
    -- cases of their own
    select m.* from findings as m
    where m.rule = 'MISSING'
        and m.as_of = $as_of
        and not exists (
            select 1 as hit from findings as whole
            where whole.rule = 'PROGRAM_STALLED'
                and whole.as_of = $as_of
                and whole.program_code = m.program_code
                and whole.period = m.period
        )
),

batches as (
    select
        program_code,
        period,
        township,
        village,
        group_name,
        count(*) as persons,
        sum(amount_due) as total_due,
        min(due_date) as oldest_due
    from missing
    group by program_code, period, township, village, group_name
    having count(*) >= $batch_stalled_min_persons
),

final as (
    select
        program_code,
        period,
        null::varchar as id_number,
        null::varchar as name,
        null::varchar as card_number,
        township,
        village,
        group_name,
        total_due as amount_due,
        0.00::decimal(18, 2) as amount_paid,
        oldest_due as due_date,
        null::date as paid_date,
        date_diff('day', oldest_due, $as_of) as days_overdue,
        format(
            '{}{}{} {} 期共 {} 人应发未发，合计 {} 元，最早应发日期 {}，截至 {} 整批未发放',
            coalesce(township, ''), coalesce(village, ''), coalesce(group_name, ''), period,
            persons, total_due::varchar, oldest_due, $as_of
        ) as detail,
        concat_ws('/', coalesce(township, ''), coalesce(village, ''), coalesce(group_name, '')) as case_key,
        period as case_period
    from batches
)

select * from final
