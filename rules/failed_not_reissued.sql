-- FAILED_NOT_REISSUED 发放失败未重发: every attempt failed and the re-issue window has passed.
-- (reconciliation carries the failures' count, first date and the bank's latest reason.)
with final as (
    select
        * exclude (facts) replace (
            format(
                '{} 首次发放失败，共失败 {} 次（最近一次原因：{}），超过重发时限 {} 天仍未重新发放，应发 {} 元',
                facts.first_failure_date, facts.failures, coalesce(facts.last_failure_reason, '银行未注明'),
                facts.reissue_days, amount_due::varchar
            ) as detail
        )
    from reconciliation
    where facts.is_entitled
        and facts.failures > 0
        and facts.successes = 0
        and facts.first_failure_date + facts.reissue_days < $as_of
)

select * from final
