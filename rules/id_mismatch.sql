-- ID_MISMATCH 身份证号错位: the bank paid an ID one edit away from an unpaid roster ID of the same
-- program, period and name (_id_mismatches.sql). One finding per pair, described by the roster row
-- (the person entitled) with what the bank paid under the other ID; both IDs masked in the detail.
with bank_paid as (
    select
        facts.key_hash,
        amount_paid,
        paid_date
    from reconciliation
    where facts.key_hash in (select bank_key from id_mismatches)
),

final as (
    select
        r.* exclude (facts) replace (
            b.amount_paid as amount_paid,
            b.paid_date as paid_date,
            date_diff('day', r.due_date, b.paid_date) as days_overdue,
            format(
                '银行按身份证号 {} 发放 {} 元（{}），花名册登记为 {}，姓名相同，号码第 {} 位{}{}；应核实后更正银行或花名册号码',
                left(m.bank_id, 6) || '********' || right(m.bank_id, 4), b.amount_paid::varchar, b.paid_date,
                left(m.roster_id, 6) || '********' || right(m.roster_id, 4), m.first_difference,
                if(m.substituted, '不同', format('与第 {} 位颠倒', m.first_difference + 1)),
                if(m.check_differs, '（校验位随之不同）', '')
            ) as detail
        )
    from reconciliation as r
    inner join id_mismatches as m
        on r.facts.key_hash = m.roster_key
    inner join bank_paid as b
        on m.bank_key = b.key_hash
)

select * from final
