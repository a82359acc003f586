-- The finding columns of a flagged payment, in one place for every rule that reports payments
-- (rules.yaml: `returns: payments`). The runner puts the rule's own select in front as the CTE
-- `flagged`, one row per flagged payment: payment_row (payments_asof.payment_row), program_code
-- (the finding's: '' for a clue about a card), detail, case_key, case_period.
-- A payment is described by its roster row for the same key when there is one (the roster's
-- name and place are the registered ones), otherwise by the bank's own row.
with paid as materialized (
    -- fetched by row id: reads only the flagged rows
    select
        p.*,
        f.program_code                                  as finding_program,
        f.detail,
        f.case_key,
        f.case_period
    from flagged as f
    join payments_asof as p
        on p.payment_row = f.payment_row
),

roster as (
    -- the roster rows of the flagged keys: found by key hash in the narrow roster and read whole
    -- by row id (the join below compares the real key, so a shared hash only reads a row more)
    select *
    from entitlements_current
    where entitlement_row in (
        select entitlement_row from current_roster
        where key_hash in (select hash(id_number, program_code, period) from paid))
),

final as (
    select
        p.finding_program                               as program_code,
        p.period,
        p.id_number,
        coalesce(e.name, p.name)                        as name,
        p.card_number,
        coalesce(e.township, p.township)                as township,
        coalesce(e.village, p.village)                  as village,
        coalesce(e.group_name, p.group_name)            as group_name,
        e.amount_due,
        p.amount                                        as amount_paid,
        e.due_date,
        p.pay_date                                      as paid_date,
        date_diff('day', e.due_date, p.pay_date)        as days_overdue,
        p.detail,
        p.case_key,
        p.case_period
    from paid as p
    left join roster as e
        on  e.id_number = p.id_number
        and e.program_code = p.program_code
        and e.period = p.period
)

select * from final
