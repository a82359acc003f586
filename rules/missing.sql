-- MISSING 应发未发: past due + grace at as_of, nothing paid, no failed attempt, not stopped.
-- (reconciliation carries the finding columns of each key: this file is only the rule.)
with final as (
    select
        * exclude (facts) replace (
            format(
                '应发 {} 元，应发日期 {}，截至 {} 仍未发放，已逾期 {} 天',
                amount_due::varchar, due_date, $as_of, days_overdue
            ) as detail
        )
    from reconciliation
    where facts.is_entitled
        and $as_of > facts.late_after
        and facts.successes = 0
        and facts.failures = 0
        and facts.stops = 0    -- 已停发: stopped on purpose, not a payment owed
        -- a one-edit ID mistake is ID_MISMATCH's finding, not this rule's
        and facts.key_hash not in (select roster_key from id_mismatches)
)

select * from final
