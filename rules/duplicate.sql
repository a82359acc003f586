-- DUPLICATE 重复发放: two or more successful payments for one (id_number, program, period),
-- with or without a roster row; one finding per key.
with final as (
    select
        * exclude (facts) replace (
            format(
                '{} 期成功发放 {} 次（{} 至 {}），合计 {} 元，{}',
                period, facts.successes, facts.first_success_date, facts.last_success_date, amount_paid::varchar,
                case when facts.is_entitled then format('应发 {} 元', amount_due::varchar)
                    else '花名册无该期应发记录'
                end
            ) as detail
        )
    from reconciliation
    where facts.successes >= 2
)

select * from final
