-- SHARED_ACCOUNT 多人一卡: one card receiving successful payments for two or more beneficiaries
-- that no roster registers as one household (household = coalesce(head_id, id_number) on any
-- current roster row; someone on no roster is a household alone). One finding per payment
-- into that card; one clue per card (program_code and case_period empty). (returns: payments)
with multi_person_cards as (
    -- two or more distinct ids on one card, grouped and compared by 64-bit hashes on the narrow
    -- table: integer aggregates are several times cheaper than text ones; the exact cards and ids
    -- are read again below, so a shared hash can only add a card to check, never hide one
    select card_hash
    from successful_payments
    where card_hash is not null
    group by card_hash
    having min(id_hash) <> max(id_hash)
),

card_payments as materialized (
    -- the successes into those cards, read whole by row id (filtering the wide scan by the card
    -- hash instead costs more: the row ids are found on the narrow columns first)
    select
        p.payment_row,
        p.program_code,
        p.period,
        p.id_number,
        p.name,
        p.card_number,
        p.amount,
        p.payee_name
    from payments_asof as p
    where p.payment_row in (
            select payment_row from successful_payments
            where card_hash in (select card_hash from multi_person_cards)
        )
),

card_people as (
    -- a payment under a mistyped ID (ID_MISMATCH, _id_mismatches.sql) is its roster person's: one
    -- mistake is one finding, not also a second person on the card
    select distinct
        p.card_number,
        coalesce(m.roster_id, p.id_number) as id_number
    from card_payments as p
    left join id_mismatches as m
        on p.id_number = m.bank_id
),

people_roster as materialized (
    -- the roster rows of those people, found by their stored id hash and read once (their
    -- households here, their registered names for the detail below), matched on the real id
    select
        e.id_number,
        e.program_code,
        e.period,
        e.name,
        coalesce(e.head_id, e.id_number) as household
    from entitlements_current as e
    semi join card_people as cp
        on e.id_number = cp.id_number
    where e.id_hash in (select hash(id_number) as id_hash from card_people)
),

rostered_households as (
    select distinct
        id_number,
        household
    from people_roster
),

people_households as (
    select
        cp.card_number,
        cp.id_number,
        coalesce(h.household, cp.id_number) as household
    from card_people as cp
    left join rostered_households as h
        on cp.id_number = h.id_number
),

card_sizes as (
    select
        card_number,
        count(distinct id_number) as persons
    from card_people
    group by card_number
),

best_household_cover as (
    -- the most of a card's people that any single household holds
    select
        card_number,
        max(covered) as covered
    from (
        select
            card_number,
            household,
            count(distinct id_number) as covered
        from people_households
        group by card_number, household
    ) as households
    group by card_number
),

shared_cards as (
    select
        s.card_number,
        s.persons
    from card_sizes as s
    inner join best_household_cover as b
        on s.card_number = b.card_number
    where b.covered < s.persons
),

shared_payments as (
    select
        p.*,
        c.persons
    from card_payments as p
    inner join shared_cards as c
        on p.card_number = c.card_number
),

registered_names as (
    -- the roster's name for the payment's key (the people on shared cards are among card_people)
    select
        id_number,
        program_code,
        period,
        name
    from people_roster
),

final as (
    select
        p.payment_row,
        '' as program_code,
        format(
            '同一银行卡（尾号{}）收取 {} 名不属于同一户的对象的补贴；本笔：{} {} 期 {} 元，享受人 {}，户名 {}',
            right(p.card_number, 4), p.persons, coalesce(g.name, p.program_code), p.period,
            p.amount::varchar, coalesce(e.name, p.name, '未知'), coalesce(p.payee_name, '未知')
        ) as detail,
        p.card_number as case_key,
        '' as case_period
    from shared_payments as p
    left join registered_names as e
        on p.id_number = e.id_number
            and p.program_code = e.program_code
            and p.period = e.period
    left join programs_cfg as g
        on p.program_code = g.code
)

select * from final
