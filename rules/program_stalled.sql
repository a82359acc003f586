-- PROGRAM_STALLED 整期未发: a program and period with a roster and not one payment row (of any status)
-- in the warehouse up to as_of — its bank file rejected or never sent, or the batch never went out —
-- whose entitlements past due + grace (its MISSING findings) lie in more than one village group.
-- One case for the program and period; the runner re-points its MISSING findings to it (rules.yaml:
-- absorbs), so they open no case of their own, and BATCH_STALLED leaves its village groups alone.
-- A program and period whose unpaid rows all lie in one group is that group's batch: BATCH_STALLED's.
with missing as (
    select * from findings
    where rule = 'MISSING'
        and as_of = $as_of
),

tiers as (
    select
        program_code,
        period,
        hash(program_code::varchar, period::varchar) as tier_hash,
        count(*) as persons,
        sum(amount_due) as total_due,
        min(due_date) as oldest_due
    from missing
    group by program_code, period
    having count(distinct concat_ws('/', coalesce(township, ''), coalesce(village, ''), coalesce(group_name, ''))) > 1
),

unpaid_tiers as (
    -- not one bank row for the tier (the same hash as the stored payments.tier_hash)
    select * from tiers
    where tier_hash not in (
            select tier_hash from payments_asof
            where tier_hash in (select tier_hash from tiers)
        )
),

final as (
    select
        t.program_code,
        t.period,
        null::varchar as id_number,
        null::varchar as name,
        null::varchar as card_number,
        null::varchar as township,
        null::varchar as village,
        null::varchar as group_name,
        t.total_due as amount_due,
        0.00::decimal(18, 2) as amount_paid,
        t.oldest_due as due_date,
        null::date as paid_date,
        date_diff('day', t.oldest_due, $as_of) as days_overdue,
        format(
            '{} {} 期共 {} 人应发未发，合计 {} 元，最早应发日期 {}，截至 {} 银行无该项目该期任何发放记录（整期未发）',
            coalesce(g.name, t.program_code), t.period, format('{:,}', t.persons), format('{:,.2f}', t.total_due),
            t.oldest_due, $as_of
        ) as detail,
        '' as case_key,
        t.period as case_period
    from unpaid_tiers as t
    left join programs_cfg as g
        on t.program_code = g.code
)

select * from final
