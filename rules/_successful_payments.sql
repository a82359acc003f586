-- Every successful payment up to as_of, narrow: the night's one pass over the bulk of the bank
-- detail, kept as a TEMP table that the reconciliation and every payment rule read instead of
-- scanning and hashing the wide payments table again. Texts are carried as 64-bit hashes only
-- (grouping, joining and comparing integers is several times cheaper than texts); a rule that
-- flags a payment reads its real texts back by payment_row, so a shared hash can only add a
-- row to check, never hide one or put a wrong name in a finding.
select
    payment_row,
    hash(id_number, program_code, period)               as key_hash,
    hash(id_number, program_code)                       as person_program,
    hash(id_number)                                     as id_hash,
    hash(program_code)                                  as program_hash,
    hash(program_code, period)                          as tier_hash,
    hash(payee_name)                                    as payee_hash,
    hash(card_number)                                   as card_hash,
    card_number is not null                             as has_card,
    period,
    amount,
    pay_date
from payments_asof
where status = 'success'
