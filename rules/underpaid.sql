-- UNDERPAID 不足额发放: something was paid, but less than due − tolerance. Amounts are exact
-- decimals: paid exactly due − tolerance (e.g. two halves rounded down by one fen) is not short.
with final as (
    select
        * exclude (facts) replace (
            format(
                '应发 {} 元，实发 {} 元，少发 {} 元',
                amount_due::varchar, amount_paid::varchar, (amount_due - amount_paid)::varchar
            ) as detail
        )
    from reconciliation
    where facts.is_entitled
        and facts.paid_total > 0
        and facts.paid_total < amount_due - facts.tolerance
)

select * from final
