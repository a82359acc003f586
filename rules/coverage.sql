-- COVERAGE 无有效花名册 (record): a program and period the bank paid whose roster is absent (never
-- sent, or rejected as a whole) or collapsed: its current rows fell by more than
-- $roster_collapse_share against the last accepted roster of the program — the previous period's
-- current rows (recurring programs; each period of a one-off program is its own batch), or, for the
-- same period, the rows before its latest correction (current rows of files that replaced none,
-- plus the rows the replacing files superseded). One finding per program and period; COVERAGE
-- suppresses the roster-dependent clues of that program and period (rules.yaml: suppresses), which
-- would otherwise flag every payment of it.
-- Cheap: the payments are counted per tier on the narrow successful_payments (one program and
-- period per tier) and the roster per program, period and file; texts are read for a handful of rows.
with paid_tiers as (
    select
        tier_hash,
        count(*) as payments,
        sum(amount) as total,
        min(payment_row) as some_row
    from successful_payments
    group by tier_hash
),

paid as materialized (
    -- each paid tier's program and period, from one of its payments (read by row id)
    select
        p.program_code,
        p.period,
        t.payments,
        t.total
    from paid_tiers as t
    inner join payments_asof as p
        on t.some_row = p.payment_row
    where p.payment_row in (select some_row from paid_tiers)
),

roster_files as (
    select
        program_code,
        period,
        file_hash,
        count(*) as entitlements
    from entitlements_current
    group by program_code, period, file_hash
),

corrections as (
    -- the rows each current file superseded, per program and period
    select
        program_code,
        period,
        superseded_by as file_hash,
        count(*) as replaced
    from entitlements
    where superseded_by is not null
        and superseded_by in (select file_hash from roster_files)
    group by program_code, period, superseded_by
),

rosters as (
    select
        f.program_code,
        f.period,
        sum(f.entitlements) as entitlements,
        -- the same period before its latest correction (null when no file replaced another)
        coalesce(sum(f.entitlements) filter (where c.replaced is null), 0) + sum(c.replaced) as before_correction
    from roster_files as f
    left join corrections as c
        on f.program_code = c.program_code
            and f.period = c.period
            and f.file_hash = c.file_hash
    group by f.program_code, f.period
),

gaps as (
    select
        p.program_code,
        p.period,
        p.payments,
        p.total,
        coalesce(r.entitlements, 0) as entitlements,
        r.before_correction,
        (
            select last.entitlements from rosters as last
            where last.program_code = p.program_code
                and last.period < p.period
            order by last.period desc
            limit 1
        ) as previous_period,
        g.name as program_name,
        coalesce(g.cadence, '') = 'once' as one_off,
        (
            select count(*) as rejected from files as f
            where f.kind = 'roster'
                and f.status = 'rejected'
                and f.program_code = p.program_code
                and f.period = p.period
        ) as rejected_files
    from paid as p
    left join rosters as r
        on p.program_code = r.program_code
            and p.period = r.period
    left join programs_cfg as g
        on p.program_code = g.code
),

flagged as (
    select
        *,
        case
            when entitlements = 0 then '无有效花名册' || if(rejected_files > 0, format('（{} 个花名册文件被拒收）', rejected_files), '')
            when entitlements < before_correction * (1 - $roster_collapse_share)
                then format('花名册仅 {} 条，更正前 {} 条', entitlements, before_correction)
            when not one_off and entitlements < previous_period * (1 - $roster_collapse_share)
                then format('花名册仅 {} 条，上期 {} 条', entitlements, previous_period)
        end as gap
    from gaps
),

final as (
    select
        program_code,
        period,
        null::varchar as id_number,
        null::varchar as name,
        null::varchar as card_number,
        null::varchar as township,
        null::varchar as village,
        null::varchar as group_name,
        null::decimal(18, 2) as amount_due,
        total as amount_paid,
        null::date as due_date,
        null::date as paid_date,
        null::integer as days_overdue,
        format(
            '{} {} {}，未核对 {} 笔发放（合计 {} 元）',
            coalesce(program_name, program_code), period, gap, format('{:,}', payments), format('{:,.2f}', total)
        ) as detail,
        '' as case_key,
        period as case_period
    from flagged
    where gap is not null
)

select * from final
