-- How a flagged payment is described, in one place for every rule that reports payments
-- (rules.yaml: `returns: payments`). The runner puts the payment rows to describe in front as
-- the CTE `flagged_rows` (one column, payment_row: payments_asof.payment_row) and takes the
-- finding's program_code, detail, case_key and case_period from the rule's own select; this
-- file gives every other finding column, one row per payment_row. The runner describes the
-- payments of all payment rules of a night in one pass (ykt.detect.runner).
-- A payment is described by its roster row for the same key when there is one (the roster's
-- name and place are the registered ones), otherwise by the bank's own row.
with paid as materialized (
    -- fetched by row id: reads only the flagged rows
    select p.*
    from payments_asof as p
    where p.payment_row in (select payment_row from flagged_rows)
),

roster as (
    -- the roster rows of the flagged keys, found by their stored key hash (the join below
    -- compares the real key, so a shared hash only reads a row more)
    select *
    from entitlements_current
    where key_hash in (select key_hash from paid)
),

final as (
    select
        p.payment_row,
        p.period,
        p.id_number,
        coalesce(e.name, p.name) as name,
        p.card_number,
        coalesce(e.township, p.township) as township,
        coalesce(e.village, p.village) as village,
        coalesce(e.group_name, p.group_name) as group_name,
        e.amount_due,
        p.amount as amount_paid,
        e.due_date,
        p.pay_date as paid_date,
        date_diff('day', e.due_date, p.pay_date) as days_overdue
    from paid as p
    left join roster as e
        on p.id_number = e.id_number
            and p.program_code = e.program_code
            and p.period = e.period
)

select * from final
