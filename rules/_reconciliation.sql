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

returned_keys as (
    -- keys with a returned row (退回/退款: the money went out and came back): rare, and an
    -- ordinary success followed by a return leaves the key unpaid, so they are always exceptions
    select
        x.key_hash,
        r.entitlement_row
    from (
        select distinct key_hash from payments_asof
        where status = 'returned'
    ) as x
    left join current_roster as r
        on x.key_hash = r.key_hash
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
        union all
        select
            key_hash,
            entitlement_row
        from returned_keys
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

attempts as (
    -- the failed, returned and stopped rows of the exceptions only (most failures of a night were
    -- re-issued, and such keys are ordinary). A returned row on or after a success of its key
    -- cancels one success (the money came back); a returned row with no success before it is a
    -- failed attempt like any other.
    select
        o.key_hash,
        o.status,
        o.pay_date,
        o.amount,
        o.failure_reason,
        o.status = 'returned' and coalesce(o.pay_date >= pa.first_success_date, false) as cancels
    from payments_asof as o
    left join paid as pa
        on o.key_hash = pa.key_hash
    where o.status <> 'success'
        and o.key_hash in (select key_hash from exception_keys)
),

other_attempts as (
    select
        key_hash,
        count(*) filter (where status <> 'stopped' and not cancels) as failures,
        min(pay_date) filter (where status <> 'stopped' and not cancels) as first_failure_date,
        count(*) filter (where status = 'stopped') as stops,
        -- the bank's latest reason is the one still blocking the money (ties: the greatest text)
        max_by(failure_reason, struct_pack(d := pay_date, r := failure_reason))
        filter (where status <> 'stopped' and not cancels) as last_failure_reason,
        count(*) filter (where cancels) as returns,
        sum(amount) filter (where cancels) as returned_total,
        max(pay_date) filter (where cancels) as last_return_date,
        max_by(failure_reason, struct_pack(d := pay_date, r := failure_reason)) filter (where cancels) as return_reason
    from attempts
    group by key_hash
),

outcomes as (
    -- what stands after the returns: each return cancels one success; a key whose every success
    -- was returned is unpaid from its last return (a failed attempt of that date and reason); a
    -- key paid again after a return counts from the re-payment (its latest success)
    select
        x.key_hash,
        coalesce(pa.successes, 0) - least(coalesce(o.returns, 0), coalesce(pa.successes, 0)) as successes,
        greatest(coalesce(pa.paid_total, 0) - coalesce(o.returned_total, 0), 0) as paid_total,
        coalesce(o.returns, 0) as returns,
        o.last_return_date,
        o.return_reason,
        coalesce(o.failures, 0) as failures,
        o.first_failure_date,
        o.last_failure_reason,
        coalesce(o.stops, 0) as stops,
        pa.first_success_date,
        pa.last_success_date,
        -- the money stands from the first success, or from the re-payment after a return
        case
            when coalesce(pa.successes, 0) <= coalesce(o.returns, 0) then null
            when o.returns > 0 then pa.last_success_date
            else pa.first_success_date
        end as paid_date
    from exception_keys as x
    left join paid as pa
        on x.key_hash = pa.key_hash
    left join other_attempts as o
        on x.key_hash = o.key_hash
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
        oc.paid_total as amount_paid,
        r.due_date,
        oc.paid_date,
        date_diff('day', r.due_date, coalesce(oc.paid_date, $as_of)) as days_overdue,
        null::varchar as detail,
        coalesce(r.id_number, b.id_number) as case_key,
        coalesce(r.period, b.period) as case_period,
        struct_pack(
            key_hash := x.key_hash,
            is_entitled := x.entitlement_row is not null,
            successes := oc.successes,
            paid_total := oc.paid_total,
            first_success_date := oc.paid_date,
            last_success_date := oc.last_success_date,
            failures := oc.failures + if(oc.successes = 0, oc.returns, 0),
            first_failure_date := if(oc.successes = 0 and oc.returns > 0, oc.last_return_date, oc.first_failure_date),
            stops := oc.stops,
            last_failure_reason := if(oc.successes = 0 and oc.returns > 0, oc.return_reason, oc.last_failure_reason),
            -- a success the bank returned (退回/退款) with no re-payment after it: the date and
            -- reason of the return (FAILED_NOT_REISSUED names them); null otherwise
            returned_on := if(oc.successes = 0 and oc.returns > 0, oc.last_return_date, null),
            returned_success_date := if(oc.successes = 0 and oc.returns > 0, oc.first_success_date, null),
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
    left join outcomes as oc
        on x.key_hash = oc.key_hash
)

select * from final
