-- The per-key picture of one night, built once as a TEMP table that every per-key rule filters.
-- One row per entitlement key (id_number, program_code, period) on a current roster or with a
-- successful payment up to as_of, EXCEPT the perfectly ordinary ones: on the roster, paid once,
-- exactly the amount due, by due + grace, to the registered holder and card. No rule can fire on
-- those (failed or stopped attempts matter only to a key with no success: MISSING and
-- FAILED_NOT_REISSUED), and leaving them out keeps this table a few percent of the roster.
-- (A key with only failed or stopped rows and no roster row concerns no rule either.)
--
-- Columns: first the finding contract's columns (docs/architecture.md) as every per-key rule
-- reports them (amount_paid = what was paid successfully, paid_date = the first success, case
-- per person and period; `detail` is left for each rule to write), then `facts`, a struct of what
-- the rules test. A rule file is then only its own WHERE and detail:
--     select * exclude (facts) replace (format(...) as detail) from reconciliation where facts...
--
-- Speed (the whole roster meets the whole bank detail here, so this is the night's big join):
-- it reads the narrow intermediates current_roster and successful_payments, where keys, names
-- and cards are 64-bit hashes, so the join and the groupings handle integers with a thin payload:
-- the join carries only each roster row's ordinary fingerprint (amount due and expected holder
-- in one hash), its card's hash, its due + grace and its row id.
-- The wide columns of the few exceptions are then read by row id, and the bank's own columns only
-- for the keys with no roster row. (The same 64-bit risk the case_id contract accepts.)
with unusual_keys as (
    -- every success judged against its roster row (same key) as it comes out of the join, and
    -- every roster row without one: what is left is a payment that is not ordinary on its own
    -- (wrong amount, late, to another holder or card, no roster row) or a roster row nobody paid.
    -- Equal fingerprints mean the exact amount and the expected holder; a payment ordinary in a
    -- way the fingerprint does not cover (to the beneficiary although a payee is registered) is
    -- kept as an exception: the rules then judge it on real amounts and texts and find nothing,
    -- so it only costs a row here. A card missing on either side is not a mismatch.
    select
        coalesce(r.key_hash, s.key_hash) as key_hash,
        r.entitlement_row
    from current_roster as r
    full join successful_payments as s
        on r.key_hash = s.key_hash
    where not coalesce(
            s.ordinary_fingerprint = r.ordinary_fingerprint
            and s.pay_date <= r.late_after
            and (r.card_hash is null or s.card_hash is null or s.card_hash = r.card_hash),
            false
        )
),

period_bits as (
    -- one bit per period of each program (a tier is one program and period; wrapping after 64
    -- periods of one program: see repeated_people). The bit's number, not its mask: with the mask
    -- as a join column DuckDB pushes the grouping below the join and groups 10M (person, tier)
    -- pairs first, three times the cost of shifting in the aggregate.
    select
        tier_hash,
        ((row_number() over (partition by program_hash order by tier_hash) - 1) % 64)::ubigint as bit
    from (
        select distinct
            program_hash,
            tier_hash
        from successful_payments
    ) as tiers
),

repeated_people as (
    -- a key paid twice is the only way ordinary payments make an exception. Grouping the
    -- successes per person and program (a sixth of the groups a per-key grouping needs): n
    -- successes of one person and program set n distinct period bits only when their n
    -- periods are distinct, so a person with fewer bits than successes MAY have a key paid
    -- twice (two periods 64 apart share a bit: such a person is only checked needlessly)
    select s.person_program
    from successful_payments as s
    inner join period_bits as b
        on s.tier_hash = b.tier_hash
    group by s.person_program
    having bit_count(bit_or(1::ubigint << b.bit)) < count(*)
),

repeated_keys as (
    select
        s.key_hash,
        any_value(r.entitlement_row) as entitlement_row
    from successful_payments as s
    left join current_roster as r
        on s.key_hash = r.key_hash
    where s.person_program in (select person_program from repeated_people)
    group by s.key_hash
    having count(*) > 1
),

exception_keys as (
    select
        key_hash,
        max(entitlement_row) as entitlement_row
    from (
        select
            key_hash,
            entitlement_row
        from unusual_keys
        union all
        select
            key_hash,
            entitlement_row
        from repeated_keys
    ) as candidate_keys
    group by key_hash
),

paid as (
    -- the successes of the exceptions only
    select
        key_hash,
        count(*) as successes,
        sum(amount) as paid_total,
        min(pay_date) as first_success_date,
        max(pay_date) as last_success_date,
        min(ordinary_fingerprint) as fingerprint,
        min(card_hash) as card_hash,
        list(payment_row) as payment_rows
    from successful_payments
    where key_hash in (select key_hash from exception_keys)
    group by key_hash
),

other_attempts as (
    -- the failed and stopped rows of the exceptions only (most failures of a night were
    -- re-issued, and such keys are ordinary)
    select
        key_hash,
        count(*) filter (where status = 'failure') as failures,
        min(pay_date) filter (where status = 'failure') as first_failure_date,
        count(*) filter (where status = 'stopped') as stops,
        -- the bank's latest reason is the one still blocking the money (ties: the greatest text)
        max_by(failure_reason, struct_pack(d := pay_date, r := failure_reason))
        filter (where status = 'failure') as last_failure_reason
    from payments_asof
    where status <> 'success'
        and key_hash in (select key_hash from exception_keys)
    group by key_hash
),

registered as (
    -- the roster's wide columns, for the exceptions only
    select
        e.entitlement_row,
        e.id_number,
        e.program_code,
        e.period,
        e.name,
        e.card_number,
        e.township,
        e.village,
        e.group_name,
        e.amount_due,
        e.due_date,
        e.payee_name,
        e.head_name,
        coalesce(p.grace_days, 0) as grace_days,
        coalesce(p.reissue_days, 0) as reissue_days,
        coalesce(p.tolerance, 0.01) as tolerance,
        e.due_date + coalesce(p.grace_days, 0) as late_after
    from entitlements_current as e
    left join programs_cfg as p
        on e.program_code = p.code
    where e.entitlement_row in (select entitlement_row from exception_keys)
),

bank_attributes as (
    -- a key with no roster row is named and described by the bank's own rows (read by row id)
    select
        p.key_hash,
        any_value(p.id_number) as id_number,
        any_value(p.program_code) as program_code,
        any_value(p.period) as period,
        min(p.name) as name,
        min(p.card_number) as card_number,
        min(p.township) as township,
        min(p.village) as village,
        min(p.group_name) as group_name
    from payments_asof as p
    where p.payment_row in (
            select unnest(payment_rows) as payment_row from paid
            where key_hash in (
                    select key_hash from exception_keys
                    where entitlement_row is null
                )
        )
    group by p.key_hash
),

final as (
    select
        coalesce(r.program_code, b.program_code) as program_code,
        coalesce(r.period, b.period) as period,
        coalesce(r.id_number, b.id_number) as id_number,
        coalesce(r.name, b.name) as name,
        coalesce(r.card_number, b.card_number) as card_number,
        coalesce(r.township, b.township) as township,
        coalesce(r.village, b.village) as village,
        coalesce(r.group_name, b.group_name) as group_name,
        r.amount_due,
        coalesce(pa.paid_total, 0) as amount_paid,
        r.due_date,
        pa.first_success_date as paid_date,
        date_diff('day', r.due_date, coalesce(pa.first_success_date, $as_of)) as days_overdue,
        null::varchar as detail,
        coalesce(r.id_number, b.id_number) as case_key,
        coalesce(r.period, b.period) as case_period,
        struct_pack(
            key_hash := x.key_hash,
            is_entitled := x.entitlement_row is not null,
            successes := coalesce(pa.successes, 0),
            paid_total := coalesce(pa.paid_total, 0),
            first_success_date := pa.first_success_date,
            last_success_date := pa.last_success_date,
            failures := coalesce(o.failures, 0),
            first_failure_date := o.first_failure_date,
            stops := coalesce(o.stops, 0),
            last_failure_reason := o.last_failure_reason,
            -- a superset of the keys paid to someone other than the beneficiary, the registered
            -- payee or the head, or onto another card than the roster's (PAYEE_MISMATCH reads the
            -- real names of these keys' payments): one payment is not suspect only when its
            -- fingerprint is the roster's for the amount it paid (the expected holder: the same
            -- expression as in _current_roster.sql) and its card is the registered one or missing
            payee_suspect := coalesce(x.entitlement_row is not null and pa.successes > 0 and (
                pa.successes > 1
                or pa.fingerprint <> hash(pa.paid_total::decimal(18, 2), coalesce(r.payee_name, r.head_name, r.name))
                or (r.card_number is not null and pa.card_hash <> hash(r.card_number))
            ), false),
            registered_payee := r.payee_name,
            registered_head := r.head_name,
            grace_days := coalesce(r.grace_days, 0),
            reissue_days := coalesce(r.reissue_days, 0),
            tolerance := coalesce(r.tolerance, 0.01),
            late_after := r.late_after
        ) as facts
    from exception_keys as x
    left join registered as r
        on x.entitlement_row = r.entitlement_row
    left join paid as pa
        on x.key_hash = pa.key_hash
    left join bank_attributes as b
        on x.key_hash = b.key_hash
    left join other_attempts as o
        on x.key_hash = o.key_hash
)

select * from final
