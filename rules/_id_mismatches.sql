-- One mistake in an ID, seen from both sides: a roster key nobody paid and a bank key with no roster
-- row, of the same program, period and name, whose IDs are one edit apart: one digit substituted
-- or two adjacent digits transposed in the 17-digit body (both bodies have 17 characters, so a
-- Damerau-Levenshtein distance of 1 is exactly that). The check character is left out on purpose:
-- GB 11643's check detects every single substitution and adjacent transposition, so two IDs that
-- both passed validation are never one edit apart over all 18 characters; the mistakes that do
-- reach the warehouse are one-edit bodies whose check character was computed afterwards (an old
-- 15-digit ID typed wrong and converted, a system that fills in the check character). Over the
-- full 18 characters a one-edit pair also has a one-edit body, so this finds those as well.
-- ID_MISMATCH reports each pair once; MISSING, FAILED_NOT_REISSUED and UNENTITLED leave both keys to it.
--
-- Cheap at 10M: both sides are the reconciliation's exceptions (a few percent of the roster), and
-- the string distance is computed only within one program, period and name.
with candidates as (
    -- both sides in one pass: entitled keys nobody paid, and paid keys no roster lists
    select
        facts.key_hash,
        facts.is_entitled,
        id_number,
        program_code,
        period,
        name
    from reconciliation
    where (facts.is_entitled and facts.successes = 0)
        or (not facts.is_entitled and facts.successes > 0)
),

final as (
    select
        u.key_hash as roster_key,
        b.key_hash as bank_key,
        u.id_number as roster_id,
        b.id_number as bank_id,
        -- the first position where the bodies differ (1-based), for the detail
        list_position(
            list_transform(range(1, 18), lambda i: substr(u.id_number, i, 1) = substr(b.id_number, i, 1)),
            false
        ) as first_difference,
        hamming(left(u.id_number, 17), left(b.id_number, 17)) = 1 as substituted,
        right(u.id_number, 1) <> right(b.id_number, 1) as check_differs
    from candidates as u
    inner join candidates as b
        on u.program_code = b.program_code
            and u.period = b.period
            and u.name = b.name
    where u.is_entitled
        and not b.is_entitled
        and length(u.id_number) = 18
        and length(b.id_number) = 18
        and damerau_levenshtein(left(u.id_number, 17), left(b.id_number, 17)) = 1
)

select * from final
