-- One row per entitlement key (id_number, program_code, period) that is on a current roster,
-- in the payments up to as_of, or both. Every per-entitlement rule is a filter on this table.
with entitlements as (
    select * from entitlements_current
),

summary as (
    select * from payment_summary
),

programs as (
    select * from programs_cfg
),

keyed as (
    select
        coalesce(e.id_number, s.id_number)              as id_number,
        coalesce(e.program_code, s.program_code)        as program_code,
        coalesce(e.period, s.period)                    as period,
        e.id_number is not null                         as is_entitled,
        coalesce(e.name, s.paid_name)                   as name,
        coalesce(e.card_number, s.min_card)             as card_number,
        coalesce(e.township, s.paid_township)           as township,
        coalesce(e.village, s.paid_village)             as village,
        coalesce(e.group_name, s.paid_group_name)       as group_name,
        e.amount_due,
        e.due_date,
        e.name                                          as registered_name,
        e.payee_name                                    as registered_payee,
        e.head_name                                     as registered_head,
        e.card_number                                   as registered_card,
        coalesce(s.successes, 0)                        as successes,
        coalesce(s.paid_total, 0)                       as paid_total,
        s.first_success_date,
        s.last_success_date,
        coalesce(s.failures, 0)                         as failures,
        s.first_failure_date,
        s.last_failure_reason,
        coalesce(s.stops, 0)                            as stops,
        s.min_payee,
        s.max_payee,
        s.min_card,
        s.max_card
    from entitlements as e
    full join summary as s
        on  e.id_number = s.id_number
        and e.program_code = s.program_code
        and e.period = s.period
),

with_program as (
    -- a program missing from programs.yaml gets the loader's defaults (grace 0, tolerance 0.01)
    -- and no re-issue allowance, so its rows are still checked rather than silently dropped
    select
        k.*,
        p.name                                          as program_name,
        coalesce(p.grace_days, 0)                       as grace_days,
        coalesce(p.reissue_days, 0)                     as reissue_days,
        coalesce(p.tolerance, 0.01)                     as tolerance
    from keyed as k
    left join programs as p
        on p.code = k.program_code
),

final as (
    select
        *,
        due_date + grace_days                           as late_after,
        date_diff('day', due_date, coalesce(first_success_date, $as_of)) as days_overdue,
        -- PAYEE_MISMATCH looks at single payments only for keys this flag marks: a name is
        -- accepted when it is null (bank gave none) or the beneficiary, registered payee or head;
        -- with more than two payments and different holders a middle one could differ unseen
        coalesce(
            is_entitled and successes > 0 and (
                not coalesce(min_payee in (registered_name, registered_payee, registered_head), min_payee is null)
                or not coalesce(max_payee in (registered_name, registered_payee, registered_head), max_payee is null)
                or (successes > 2 and min_payee <> max_payee)
                or registered_card <> min_card
                or registered_card <> max_card
            ),
            false
        )                                               as payee_suspect
    from with_program
)

select * from final
