-- The per-key picture of one night, built once as a TEMP table that every per-key rule filters.
-- One row per entitlement key (id_number, program_code, period) on a current roster or with a
-- successful payment up to as_of, EXCEPT the perfectly ordinary ones: on the roster, paid once,
-- exactly the amount due, by due + grace, with no failure or stop, to the registered holder and
-- card. No rule can fire on those, and leaving them out keeps this table a few percent of the roster.
-- (A key with only failed or stopped rows and no roster row concerns no rule either.)
--
-- Columns: first the finding contract's columns (docs/architecture.md) as every per-key rule
-- reports them (amount_paid = what was paid successfully, paid_date = the first success, case
-- per person and period; `detail` is left for each rule to write), then `facts`, a struct of what
-- the rules test. A rule file is then only its own WHERE and detail:
--     select * exclude (facts) replace (format(...) as detail) from reconciliation where facts...
--
-- Speed: keys are compared as one 64-bit hash of (id_number, program_code, period): grouping and
-- joining on one integer is far cheaper than on three texts (the same 64-bit risk the case_id
-- contract accepts). The wide roster columns ride along the join as payload, and the bank's own
-- columns are fetched only for the few keys with no roster row.
with successful_payments as (
    -- successes are the bulk of the rows: few integer aggregates only. The account holder and
    -- card of a key paid once are its hashes' min; a key paid more often is not ordinary anyway
    -- and PAYEE_MISMATCH compares the real names of its payments.
    select
        hash(id_number, program_code, period)           as key_hash,
        count(*)                                        as successes,
        sum(amount)                                     as paid_total,
        min(pay_date)                                   as first_success_date,
        max(pay_date)                                   as last_success_date,
        min(hash(payee_name))                           as payee_hash,
        min(hash(card_number))                          as card_hash
    from payments_asof
    where status = 'success'
    group by key_hash
),

other_attempts as (
    select
        hash(id_number, program_code, period)           as key_hash,
        count(*) filter (where status = 'failure')      as failures,
        min(pay_date) filter (where status = 'failure') as first_failure_date,
        count(*) filter (where status = 'stopped')      as stops
    from payments_asof
    where status <> 'success'
    group by key_hash
),

entitlements as (
    select
        hash(id_number, program_code, period)           as key_hash,
        id_number,
        program_code,
        period,
        name,
        card_number,
        township,
        village,
        group_name,
        amount_due,
        due_date,
        payee_name,
        head_name
    from entitlements_current
),

keyed as (
    select
        coalesce(e.key_hash, s.key_hash)                as key_hash,
        e.key_hash is not null                          as is_entitled,
        e.* exclude (key_hash),
        coalesce(s.successes, 0)                        as successes,
        coalesce(s.paid_total, 0)                       as paid_total,
        s.first_success_date,
        s.last_success_date,
        coalesce(o.failures, 0)                         as failures,
        o.first_failure_date,
        coalesce(o.stops, 0)                            as stops,
        -- a superset of the keys paid to someone other than the beneficiary, the registered payee
        -- or the head, or onto another card than the roster's (a bank row without a holder or
        -- card is not a mismatch, hence hash(null) among the accepted values)
        coalesce(e.key_hash is not null and s.successes > 0 and (
            s.successes > 1
            or s.payee_hash not in (hash(e.name), hash(e.payee_name), hash(e.head_name), hash(null::varchar))
            or (e.card_number is not null and s.card_hash not in (hash(e.card_number), hash(null::varchar)))
        ), false)                                       as payee_suspect
    from entitlements as e
    full join successful_payments as s
        on s.key_hash = e.key_hash
    left join other_attempts as o
        on o.key_hash = coalesce(e.key_hash, s.key_hash)
),

settled as (
    -- paid once, in full, to the registered holder and card, with no failure or stop: such a
    -- key is ordinary when that payment came by due + grace
    select
        *,
        coalesce(is_entitled and successes = 1 and failures = 0 and stops = 0
                 and paid_total = amount_due and not payee_suspect, false) as paid_once_in_full
    from keyed
),

maybe_exceptions as (
    -- first without the programs' grace (never negative): a superset, so the program settings
    -- are joined to a tenth of the keys instead of all of them
    select * from settled
    where not (paid_once_in_full and first_success_date <= due_date)
),

exceptions as (
    -- a program missing from programs.yaml gets the loader's defaults (grace 0, tolerance 0.01)
    -- and no re-issue allowance, so its rows are still checked rather than silently dropped
    select
        x.*,
        coalesce(p.grace_days, 0)                       as grace_days,
        coalesce(p.reissue_days, 0)                     as reissue_days,
        coalesce(p.tolerance, 0.01)                     as tolerance,
        x.due_date + coalesce(p.grace_days, 0)          as late_after
    from maybe_exceptions as x
    left join programs_cfg as p
        on p.code = x.program_code
    where not (x.paid_once_in_full and x.first_success_date <= x.due_date + coalesce(p.grace_days, 0))
),

bank_attributes as (
    -- a key with no roster row is named and described by the bank's own rows
    select
        hash(p.id_number, p.program_code, p.period)     as key_hash,
        any_value(p.id_number)                          as id_number,
        any_value(p.program_code)                       as program_code,
        any_value(p.period)                             as period,
        min(p.name)                                     as name,
        min(p.card_number)                              as card_number,
        min(p.township)                                 as township,
        min(p.village)                                  as village,
        min(p.group_name)                               as group_name
    from payments_asof as p
    where p.status = 'success'
      and hash(p.id_number, p.program_code, p.period) in (select key_hash from exceptions where not is_entitled)
    group by 1
),

final as (
    select
        coalesce(x.program_code, b.program_code)        as program_code,
        coalesce(x.period, b.period)                    as period,
        coalesce(x.id_number, b.id_number)              as id_number,
        coalesce(x.name, b.name)                        as name,
        coalesce(x.card_number, b.card_number)          as card_number,
        coalesce(x.township, b.township)                as township,
        coalesce(x.village, b.village)                  as village,
        coalesce(x.group_name, b.group_name)            as group_name,
        x.amount_due,
        x.paid_total                                    as amount_paid,
        x.due_date,
        x.first_success_date                            as paid_date,
        date_diff('day', x.due_date, coalesce(x.first_success_date, $as_of)) as days_overdue,
        null::varchar                                   as detail,
        coalesce(x.id_number, b.id_number)              as case_key,
        coalesce(x.period, b.period)                    as case_period,
        struct_pack(
            key_hash := x.key_hash,
            is_entitled := x.is_entitled,
            successes := x.successes,
            paid_total := x.paid_total,
            first_success_date := x.first_success_date,
            last_success_date := x.last_success_date,
            failures := x.failures,
            first_failure_date := x.first_failure_date,
            stops := x.stops,
            payee_suspect := x.payee_suspect,
            registered_payee := x.payee_name,
            registered_head := x.head_name,
            grace_days := x.grace_days,
            reissue_days := x.reissue_days,
            tolerance := x.tolerance,
            late_after := x.late_after
        )                                               as facts
    from exceptions as x
    left join bank_attributes as b
        on b.key_hash = x.key_hash and not x.is_entitled
)

select * from final
