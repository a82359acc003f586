-- PAYEE_MISMATCH 户名不符: a successful payment whose account holder is neither the beneficiary
-- nor the roster's registered payee (guardian) or household head, or whose card differs from
-- the roster's card. One finding per payment; one clue per beneficiary and program. (returns: payments)
with suspects as (
    -- keys whose payee/card range already shows a possible mismatch (see _reconciliation.sql):
    -- only their payments are read and compared by name
    select
        facts.key_hash,
        id_number,
        program_code,
        period,
        name,
        card_number,
        facts.registered_payee,
        facts.registered_head
    from reconciliation
    where facts.payee_suspect
),

payments as materialized (
    -- their successes, found on the narrow table by key hash and read whole by row id
    select p.*
    from payments_asof as p
    where p.payment_row in (
            select payment_row from successful_payments
            where key_hash in (select key_hash from suspects)
        )
),

checked as (
    select
        p.payment_row,
        p.program_code,
        p.period,
        p.id_number,
        p.amount,
        p.payee_name,
        p.card_number,
        s.name as registered_name,
        s.registered_payee,
        s.registered_head,
        s.card_number as registered_card,
        p.payee_name is not null
        and not coalesce(p.payee_name in (s.name, s.registered_payee, s.registered_head), false)
            as holder_differs,
        p.card_number is not null
        and s.card_number is not null
        and p.card_number <> s.card_number as card_differs
    from payments as p
    inner join suspects as s
        on p.id_number = s.id_number
            and p.program_code = s.program_code
            and p.period = s.period
),

final as (
    select
        payment_row,
        program_code,
        concat_ws(
            '；',
            case when holder_differs then format(
                        '收款户名“{}”既不是享受人“{}”，也不是花名册登记的收款人或户主（{}）',
                        payee_name, registered_name,
                        coalesce(nullif(concat_ws('、', registered_payee, registered_head), ''), '未登记')
                    )
            end,
            case when card_differs then format(
                        '收款卡（尾号{}）与花名册登记的卡（尾号{}）不一致',
                        right(card_number, 4), right(registered_card, 4)
                    )
            end
        ) || format('；{} 期 {} 元', period, amount::varchar) as detail,
        id_number as case_key,
        '' as case_period
    from checked
    where holder_differs or card_differs
)

select * from final
