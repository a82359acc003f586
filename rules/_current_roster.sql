-- The current roster, narrow (a TEMP view): one row per entitlement with its row id, its key and
-- what the reconciliation compares, the texts carried as the 64-bit row hashes stored at load
-- (warehouse.py: ROW_HASHES), so the roster's strings are not read on a night; a rule that needs
-- a roster row's real texts reads them back by entitlement_row. A program missing from
-- programs.yaml gets the loader's default grace (0), so its rows are still checked rather than
-- silently dropped.
--
-- ordinary_fingerprint: the amount due and the expected account holder in one hash, computed as
-- a payment's (amount, holder) is, so one integer comparison in the reconciliation's join stands
-- for "exact amount, to an accepted holder". The expected holder is the registered payee
-- (收款人/监护人) when there is one, else the household head, else the beneficiary: a payment to
-- another of the three accepted holders only differs here and is judged on its real texts (see
-- _reconciliation.sql), never passed as ordinary. The card is compared on its own (card_hash,
-- null without a card): a roster without cards stays ordinary.
with final as (
    select
        e.entitlement_row,
        e.key_hash,
        e.id_hash,
        e.ordinary_fingerprint,
        e.card_hash,
        e.due_date + coalesce(p.grace_days, 0) as late_after
    from entitlements_current as e
    left join programs_cfg as p
        on e.program_code = p.code
)

select * from final
