-- OVERPAID 超标准发放: exactly one successful payment, above due + tolerance
-- (two or more successes are DUPLICATE instead).
with final as (
    select
        * exclude (facts) replace (
            format(
                '应发 {} 元，实发 {} 元，多发 {} 元',
                amount_due::varchar, amount_paid::varchar, (amount_paid - amount_due)::varchar
            ) as detail
        )
    from reconciliation
    where facts.is_entitled
        and facts.successes = 1
        and facts.paid_total > amount_due + facts.tolerance
)

select * from final
