-- The per-key picture of one night, built once as a TEMP table that every per-entitlement rule
-- filters. One row per entitlement key (id_number, program_code, period) on a current roster or
-- with a successful payment up to as_of, EXCEPT the perfectly ordinary ones: on the roster, paid
-- once, exactly the amount due, by due + grace, with no failure or stop, to the registered holder
-- and card. No rule can fire on those, and leaving them out keeps this table a few percent of the
-- roster. (A key with only failed or stopped rows and no roster row concerns no rule either.)
with successful_payments as (
    -- successes are the bulk of the rows: aggregated apart, without FILTER clauses, this is
    -- about three times cheaper. Text values are summarised by their 64-bit hashes (min and
    -- max): equal min and max means a single account holder / card; integer aggregates are far
    -- cheaper than text ones, and PAYEE_MISMATCH re-checks the real names of flagged keys.
    -- hash(null) is a value, hence the explicit null checks.
    select
        id_number,
        program_code,
        period,
        count(*)                                                            as successes,
        sum(amount)                                                         as paid_total,
        min(pay_date)                                                       as first_success_date,
        max(pay_date)                                                       as last_success_date,
        min(hash(payee_name)) filter (where payee_name is not null)         as min_payee_hash,
        max(hash(payee_name)) filter (where payee_name is not null)         as max_payee_hash,
        min(hash(card_number)) filter (where card_number is not null)       as min_card_hash,
        max(hash(card_number)) filter (where card_number is not null)       as max_card_hash
    from payments_asof
    where status = 'success'
    group by id_number, program_code, period
),

other_attempts as (
    select
        id_number,
        program_code,
        period,
        count(*) filter (where status = 'failure')                          as failures,
        min(pay_date) filter (where status = 'failure')                     as first_failure_date,
        count(*) filter (where status = 'stopped')                          as stops
    from payments_asof
    where status <> 'success'
    group by id_number, program_code, period
),

entitlements as (
    select * from entitlements_current
),

programs as (
    select * from programs_cfg
),

keyed as (
    select
        coalesce(e.id_number, s.id_number)              as id_number,
        coalesce(e.program_code, s.program_code)        as program_code,
        coalesce(e.period, s.period)                    as period,
        e.id_number is not null                         as is_entitled,
        e.name,
        e.card_number,
        e.township,
        e.village,
        e.group_name,
        e.amount_due,
        e.due_date,
        e.payee_name                                    as registered_payee,
        e.head_name                                     as registered_head,
        coalesce(s.successes, 0)                        as successes,
        coalesce(s.paid_total, 0)                       as paid_total,
        s.first_success_date,
        s.last_success_date,
        coalesce(o.failures, 0)                         as failures,
        o.first_failure_date,
        coalesce(o.stops, 0)                            as stops,
        -- a payee is accepted when it is the beneficiary, the registered payee or the head;
        -- with more than two payments and different holders a middle one could differ unseen
        coalesce(e.id_number is not null and s.successes > 0 and (
            s.min_payee_hash not in (hash(e.name), hash(e.payee_name), hash(e.head_name))
            or s.max_payee_hash not in (hash(e.name), hash(e.payee_name), hash(e.head_name))
            or (s.successes > 2 and s.min_payee_hash <> s.max_payee_hash)
            or (e.card_number is not null and hash(e.card_number) not in (s.min_card_hash, s.max_card_hash))
            or (e.card_number is not null and s.min_card_hash <> s.max_card_hash)
        ), false)                                       as payee_suspect
    from entitlements as e
    full join successful_payments as s
        on  e.id_number = s.id_number
        and e.program_code = s.program_code
        and e.period = s.period
    left join other_attempts as o
        on  o.id_number = coalesce(e.id_number, s.id_number)
        and o.program_code = coalesce(e.program_code, s.program_code)
        and o.period = coalesce(e.period, s.period)
),

with_program as (
    -- a program missing from programs.yaml gets the loader's defaults (grace 0, tolerance 0.01)
    -- and no re-issue allowance, so its rows are still checked rather than silently dropped
    select
        k.*,
        coalesce(p.grace_days, 0)                       as grace_days,
        coalesce(p.reissue_days, 0)                     as reissue_days,
        coalesce(p.tolerance, 0.01)                     as tolerance,
        k.due_date + coalesce(p.grace_days, 0)          as late_after
    from keyed as k
    left join programs as p
        on p.code = k.program_code
),

exceptions as (
    select * from with_program
    where not (
        is_entitled
        and successes = 1
        and failures = 0
        and stops = 0
        and paid_total = amount_due
        and first_success_date <= late_after
        and not payee_suspect
    )
),

bank_attributes as (
    -- a key with no roster row is described by the bank's own rows
    select
        p.id_number,
        p.program_code,
        p.period,
        min(p.name)                                     as name,
        min(p.card_number)                              as card_number,
        min(p.township)                                 as township,
        min(p.village)                                  as village,
        min(p.group_name)                               as group_name
    from payments_asof as p
    semi join (select * from exceptions where not is_entitled) as u
        on  u.id_number = p.id_number
        and u.program_code = p.program_code
        and u.period = p.period
    where p.status = 'success'
    group by p.id_number, p.program_code, p.period
),

final as (
    select
        x.* replace (
            coalesce(x.name, b.name)                    as name,
            coalesce(x.card_number, b.card_number)      as card_number,
            coalesce(x.township, b.township)            as township,
            coalesce(x.village, b.village)              as village,
            coalesce(x.group_name, b.group_name)        as group_name
        ),
        date_diff('day', x.due_date, coalesce(x.first_success_date, $as_of)) as days_overdue
    from exceptions as x
    left join bank_attributes as b
        on  b.id_number = x.id_number
        and b.program_code = x.program_code
        and b.period = x.period
)

select * from final
