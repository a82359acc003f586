-- FAILED_NOT_REISSUED 发放失败未重发: every attempt failed and the re-issue window has passed.
with failed as (
    select * from reconciliation
    where facts.is_entitled
      and facts.failures > 0
      and facts.successes = 0
      and facts.first_failure_date + facts.reissue_days < $as_of
),

latest_reasons as (
    -- the bank's latest reason is the one still blocking the money (ties: the greatest text);
    -- only the failures of the few keys above are read
    select
        p.id_number,
        p.program_code,
        p.period,
        max_by(p.failure_reason, struct_pack(d := p.pay_date, r := p.failure_reason)) as last_failure_reason
    from payments_asof as p
    semi join failed as f
        on  f.id_number = p.id_number
        and f.program_code = p.program_code
        and f.period = p.period
    where p.status = 'failure'
    group by p.id_number, p.program_code, p.period
)

select f.* exclude (facts) replace (
    format('{} 首次发放失败，共失败 {} 次（最近一次原因：{}），超过重发时限 {} 天仍未重新发放，应发 {} 元',
           f.facts.first_failure_date, f.facts.failures, coalesce(r.last_failure_reason, '银行未注明'),
           f.facts.reissue_days, f.amount_due::varchar) as detail
)
from failed as f
left join latest_reasons as r
    on  r.id_number = f.id_number
    and r.program_code = f.program_code
    and r.period = f.period
