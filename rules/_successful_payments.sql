-- Every successful payment up to as_of, narrow: the night's one pass over the bulk of the bank
-- detail, kept as a TEMP table that the reconciliation and every payment rule read instead of
-- scanning and hashing the wide payments table again. Texts are carried as 64-bit hashes only
-- (grouping, joining and comparing integers is several times cheaper than texts; a text column
-- here, even the short period, costs more to write than all the hashes together); a rule that
-- flags a payment reads its real texts back by payment_row, so a shared hash can only add a
-- row to check, never hide one or put a wrong name in a finding.
--
-- ordinary_fingerprint stands for the amount and account holder (see _current_roster.sql): equal
-- fingerprints mean an equal amount paid to the expected holder. A bank row without a holder is
-- taken as paid to the person the bank names (a missing holder is never a mismatch). card_hash is
-- null without a card (a missing card is never a mismatch either).
select
    payment_row,
    hash(id_number, program_code, period)               as key_hash,
    hash(id_number, program_code)                       as person_program,
    hash(id_number)                                     as id_hash,
    hash(program_code)                                  as program_hash,
    hash(program_code, period)                          as tier_hash,
    hash(amount, coalesce(payee_name, name))            as ordinary_fingerprint,
    if(card_number is null, null, hash(card_number))    as card_hash,
    amount,
    pay_date
from payments_asof
where status = 'success'
