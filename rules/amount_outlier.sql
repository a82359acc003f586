-- AMOUNT_OUTLIER 金额异常 (statistical clue), two independent tests per program (programs.yaml):
-- (1) outlier_check: robust z-score per program and tier, the tier being the period (amounts of
--     one program in one period are set by one standard, so they are comparable):
--     |0.6745·(x − median)/MAD| > $outlier_z. When MAD = 0 (over half the amounts equal) the mean
--     absolute deviation ×1.2533 stands in; when both are 0 every amount is equal and nothing is
--     an outlier.
-- (2) benford_check: Benford first-digit test per program and township (only programs with free
--     amounts): with at least $benford_min_payments payments and a mean absolute deviation of the
--     nine digit shares above $benford_max_mad, each payment of that program in that township is
--     a finding, and the township one clue.
-- The statistics read narrow columns only; the z-score is one comparison per payment against
-- its tier's figures, so the flagged payments come out of that same scan. (returns: payments)
with outlier_programs as (
    select hash(code) as program_hash from programs_cfg
    where outlier_check
),

benford_programs as (
    select code from programs_cfg
    where benford_check
),

every_tier_median as (
    -- a tier is one program and period (tier_hash); its amounts come from the narrow table, read
    -- again by each pass below rather than kept (a narrow scan is cheaper than a copy). Every
    -- tier's median, then only the checked programs' tiers kept: cheaper than testing each
    -- payment's program first (most payments belong to checked programs)
    select
        s.tier_hash,
        any_value(s.program_hash) as program_hash,
        median(s.amount::double) as med
    from successful_payments as s
    group by s.tier_hash
),

tier_medians as (
    select
        m.tier_hash,
        m.med
    from every_tier_median as m
    semi join outlier_programs as c
        on m.program_hash = c.program_hash
),

tier_spreads as (
    select
        s.tier_hash,
        any_value(m.med) as med,
        median(abs(s.amount::double - m.med)) as mad,
        avg(abs(s.amount::double - m.med)) as mean_ad
    from successful_payments as s
    inner join tier_medians as m
        on s.tier_hash = m.tier_hash
    group by s.tier_hash
),

tier_bounds as (
    -- |z| > $outlier_z  ⇔  the amount lies outside med ± $outlier_z · scale, so the flagged
    -- payments come out of one range comparison per payment; z itself is computed for those only
    select
        tier_hash,
        med,
        case
            when mad > 0 then mad / 0.6745
            when mean_ad > 0 then 1.2533 * mean_ad
        end as scale
    from tier_spreads
),

z_scored as materialized (
    select
        s.payment_row,
        b.med,
        (s.amount::double - b.med) / b.scale as z
    from successful_payments as s
    inner join tier_bounds as b
        on s.tier_hash = b.tier_hash
    where b.scale is not null
        and abs(s.amount::double - b.med) > $outlier_z * b.scale
),

digit_counts as (
    -- first significant digit, exactly, from the amount in whole fen (0.05 → 5, 1350.00 → 1)
    select
        p.program_code,
        p.township,
        left((p.amount * 100)::bigint::varchar, 1)::integer as digit,
        count(*) as hits
    from payments_asof as p
    semi join benford_programs as c
        on p.program_code = c.code
    where p.status = 'success'
        and p.amount > 0
    group by all
),

township_totals as (
    select
        program_code,
        township,
        sum(hits) as payments
    from digit_counts
    group by program_code, township
    having sum(hits) >= $benford_min_payments
),

benford_townships as (
    select
        t.program_code,
        t.township,
        any_value(t.payments) as payments,
        avg(abs(coalesce(c.hits, 0) / t.payments - log10(1 + 1 / d.digit))) as mad
    from township_totals as t
    cross join range(1, 10) as d (digit)
    left join digit_counts as c
        on t.program_code = c.program_code
            and c.township is not distinct from t.township
            and d.digit = c.digit
    group by t.program_code, t.township
    having avg(abs(coalesce(c.hits, 0) / t.payments - log10(1 + 1 / d.digit))) > $benford_max_mad
),

outliers as (
    select
        p.payment_row,
        p.program_code,
        format(
            '{} 期 {} 元，明显偏离同项目同期发放水平（中位数 {} 元，稳健 z 值 {}，阈值 {}）',
            p.period, p.amount::varchar, round(z.med, 2)::decimal(18, 2)::varchar,
            round(z.z, 1), $outlier_z
        ) as detail,
        p.id_number as case_key,
        p.period as case_period
    from z_scored as z
    inner join payments_asof as p
        on z.payment_row = p.payment_row
),

benford_payments as (
    select
        p.payment_row,
        p.program_code,
        format(
            '{}该项目 {} 笔发放金额的首位数字分布明显偏离本福特定律（平均绝对偏差 {}，阈值 {}），需核查金额来源；本笔 {} 期 {} 元',
            coalesce(p.township, '（未注明乡镇）'), b.payments, round(b.mad, 4), $benford_max_mad,
            p.period, p.amount::varchar
        ) as detail,
        coalesce(p.township, '') as case_key,
        '' as case_period
    from payments_asof as p
    inner join benford_townships as b
        on p.program_code = b.program_code and b.township is not distinct from p.township
    where p.status = 'success'
),

final as (
    select * from outliers
    union all
    select * from benford_payments
)

select * from final
