-- FAILED_NOT_REISSUED 发放失败未重发: every attempt failed, or the bank returned the money paid
-- (退回/退款, with no re-payment after it), and the re-issue window has passed: it counts from the
-- first failure, or from the return (reconciliation carries the failures' count, first date and
-- the bank's latest reason, and for a returned payment the date it was paid and returned).
with final as (
    select
        * exclude (facts) replace (
            case
                when facts.returned_on is not null
                    then format(
                            '{} 发放成功后于 {} 被银行退回（原因：{}），超过重发时限 {} 天仍未重新发放，应发 {} 元',
                            facts.returned_success_date,
                            facts.returned_on,
                            coalesce(facts.last_failure_reason, '银行未注明'),
                            facts.reissue_days, amount_due::varchar
                        )
                else format(
                        '{} 首次发放失败，共失败 {} 次（最近一次原因：{}），超过重发时限 {} 天仍未重新发放，应发 {} 元',
                        facts.first_failure_date, facts.failures, coalesce(facts.last_failure_reason, '银行未注明'),
                        facts.reissue_days, amount_due::varchar
                    )
            end as detail
        )
    from reconciliation
    where facts.is_entitled
        and facts.failures > 0
        and facts.successes = 0
        and facts.first_failure_date + facts.reissue_days < $as_of
        -- a one-edit ID mistake is ID_MISMATCH's finding, not this rule's
        and facts.key_hash not in (select roster_key from id_mismatches)
)

select * from final
