-- Every successful payment up to as_of, narrow (a TEMP view): the columns the reconciliation and
-- every payment rule read instead of the wide payments table. Texts are carried as the 64-bit row
-- hashes stored when the row was loaded (warehouse.py: ROW_HASHES; grouping, joining and
-- comparing integers is several times cheaper than texts, and hashing them once at load spares
-- the night a pass over every text of the bank detail); a rule that flags a payment reads its real
-- texts back by payment_row, so a shared hash can only add a row to check, never hide one or put
-- a wrong name in a finding. A view, not a copy: scanning these stored columns costs what
-- scanning a copy would, and the 10M-row copy is not written.
--
-- ordinary_fingerprint stands for the amount and account holder (see _current_roster.sql): equal
-- fingerprints mean an equal amount paid to the expected holder. A bank row without a holder is
-- taken as paid to the person the bank names (a missing holder is never a mismatch). card_hash is
-- null without a card (a missing card is never a mismatch either).
with final as (
    select
        payment_row,
        key_hash,
        person_program,
        id_hash,
        program_hash,
        tier_hash,
        ordinary_fingerprint,
        card_hash,
        amount,
        pay_date
    from payments_asof
    where status = 'success'
)

select * from final
