-- PAID_LATE 发放不及时 (record only): the earliest successful payment came after due + grace.
-- Only the first success counts, so a later duplicate never makes a timely payment late.
with final as (
    select
        * exclude (facts) replace (
            format(
                '应发日期 {}（宽限 {} 天），实际 {} 才发放，晚 {} 天',
                due_date, facts.grace_days, paid_date, days_overdue
            ) as detail
        )
    from reconciliation
    where facts.is_entitled
        and facts.first_success_date > facts.late_after
)

select * from final
