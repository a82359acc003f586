-- The current roster, narrow: one row per entitlement with its row id, its key and what the
-- reconciliation compares, the texts carried as 64-bit hashes. Built once a night (a TEMP table)
-- so the roster's strings are read and hashed once; a rule that needs a roster row's real texts
-- reads them back by entitlement_row. A program missing from programs.yaml gets the loader's
-- default grace (0), so its rows are still checked rather than silently dropped.
select
    e.entitlement_row,
    hash(e.id_number, e.program_code, e.period)         as key_hash,
    hash(e.id_number)                                   as id_hash,
    e.amount_due,
    e.due_date + coalesce(p.grace_days, 0)              as late_after,
    hash(e.name)                                        as name_hash,
    hash(e.payee_name)                                  as registered_payee_hash,
    hash(e.head_name)                                   as head_hash,
    hash(e.card_number)                                 as card_hash,
    e.card_number is not null                           as has_card
from entitlements_current as e
left join programs_cfg as p
    on p.code = e.program_code
