-- One row per live case_id of the night, with every field the case row needs except the summary.
create or replace temp table case_current as
with live as (
    select * replace (nullif(program_code, '') as program_code)
    from findings
    where as_of = $as_of and case_id is not null and route in ('complaint', 'clue')
),

payment_programs as (
    -- the program of each successful payment behind a finding that names none (SHARED_ACCOUNT)
    select
        id_number,
        card_number,
        period,
        pay_date,
        min(program_code) as program_code
    from payments
    where
        status = 'success'
        and (id_number, card_number) in (
            select
                id_number,
                card_number
            from live
            where program_code is null
        )
    group by all
),

heads as (
    select
        case_id,
        min(rule) filter (where list_contains($group_rules, rule)) as group_rule,
        min(route) filter (where list_contains($group_rules, rule)) as group_route,
        -- a group case is where its header says (PROGRAM_STALLED: the whole county, no place)
        any_value(struct_pack(township, village, group_name)) filter (
            where list_contains($group_rules, rule)
        ) as group_place,
        min(rule) as first_rule,
        min(route) as first_route
    from live
    group by case_id
),

ruled as (
    select
        live.*,
        coalesce(heads.group_rule, heads.first_rule) as case_rule,
        coalesce(heads.group_route, heads.first_route) as case_route,
        heads.group_rule is not null as is_group,
        heads.group_place
    from live
    inner join heads on live.case_id = heads.case_id
),

member_counts as (
    select
        case_id,
        count(*) filter (where not is_group or rule <> case_rule) as members
    from ruled
    group by case_id
),

members as (
    -- a group case counts its member findings, not its own header row (unless it has no members)
    select
        ruled.*,
        coalesce(ruled.program_code, paid.program_code) as paid_program,
        -- "first payment" order: decides the department of a case spanning programs, and its place
        struct_pack(
            d := coalesce(ruled.paid_date, ruled.due_date),
            p := coalesce(ruled.program_code, paid.program_code),
            q := ruled.period,
            i := ruled.id_number,
            c := ruled.card_number,
            t := ruled.township,
            v := ruled.village,
            g := ruled.group_name
        ) as first_key
    from ruled
    inner join member_counts on ruled.case_id = member_counts.case_id
    left join payment_programs as paid
        on
            ruled.id_number = paid.id_number
            and ruled.card_number = paid.card_number
            and ruled.period = paid.period
            and ruled.paid_date = paid.pay_date
    where not ruled.is_group or ruled.rule <> ruled.case_rule or member_counts.members = 0
),

grouped as (
    select
        case_id,
        any_value(case_rule) as rule,
        any_value(case_route) as route,
        -- min = max: exactly one distinct value (cheaper than count(distinct) on big nights)
        case when min(program_code) = max(program_code) then min(program_code) end as program_code,
        arg_min(paid_program, first_key) filter (where paid_program is not null) as department_program,
        case when min(period) = max(period) then min(period) else min(period) || '/' || max(period) end as period,
        case
            when min(id_number) = max(id_number) then min(id_number)
            when min(card_number) = max(card_number) then min(card_number)
        end as single_key,
        if(
            bool_or(is_group), any_value(group_place), arg_min(struct_pack(township, village, group_name), first_key)
        ) as first_place,
        count(distinct id_number)::integer as persons,
        count(*)::integer as findings,
        min(name) as name,
        min(id_number) as id_number,
        min(card_number) as card_number,
        sum(amount_due) as amount_due,
        sum(amount_paid) as amount_paid,
        sum(greatest(coalesce(amount_due, 0) - coalesce(amount_paid, 0), 0)) as shortfall,
        min(due_date) as due_date,
        coalesce(max(days_overdue), $as_of - min(due_date)) as days_overdue
    from members
    group by case_id
),

final as (
    select
        g.* exclude (first_place),
        g.first_place.township as township,
        g.first_place.village as village,
        g.first_place.group_name as group_name,
        coalesce(
            g.single_key,
            concat_ws(
                '/',
                coalesce(g.first_place.township, ''),
                coalesce(g.first_place.village, ''),
                coalesce(g.first_place.group_name, '')
            )
        ) as case_key,
        (
            case when g.route = 'complaint' then g.shortfall else coalesce(g.amount_paid, 0) end
        )::decimal(18, 2) as amount,
        named.name as program_name,
        coalesce(
            $rule_departments[g.rule],
            replace(dept.department, '{township}', coalesce(g.first_place.township, '')),
            $fallback_authority
        ) as department,
        coalesce(
            $rule_supervisors[g.rule],
            replace(dept.supervisor, '{township}', coalesce(g.first_place.township, '')),
            $fallback_authority
        ) as supervisor,
        coalesce(dept.resolve_days, $fallback_resolve_days) as resolve_days
    from grouped as g
    left join programs_cfg as named on g.program_code = named.code
    left join programs_cfg as dept on g.department_program = dept.code
)

select * from final
