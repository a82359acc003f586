-- The current roster, narrow: one row per entitlement with its row id, its key and what the
-- reconciliation compares, the texts carried as 64-bit hashes. Built once a night (a TEMP table)
-- so the roster's strings are read and hashed once; a rule that needs a roster row's real texts
-- reads them back by entitlement_row. A program missing from programs.yaml gets the loader's
-- default grace (0), so its rows are still checked rather than silently dropped.
--
-- ordinary_fingerprint: the amount due and the expected account holder in one hash, computed as
-- successful_payments computes a payment's (amount, holder), so one integer comparison in the
-- reconciliation's join stands for "exact amount, to an accepted holder". The expected holder is
-- the registered payee (收款人/监护人) when there is one, else the household head, else the
-- beneficiary: a payment to another of the three accepted holders only differs here and is
-- judged on its real texts (see _reconciliation.sql), never passed as ordinary. The card is
-- compared on its own (card_hash, null without a card): a roster without cards stays ordinary.
select
    e.entitlement_row,
    hash(e.id_number, e.program_code, e.period)         as key_hash,
    hash(e.id_number)                                   as id_hash,
    hash(e.amount_due, coalesce(e.payee_name, e.head_name, e.name)) as ordinary_fingerprint,
    if(e.card_number is null, null, hash(e.card_number)) as card_hash,
    e.due_date + coalesce(p.grace_days, 0)              as late_after
from entitlements_current as e
left join programs_cfg as p
    on p.code = e.program_code
