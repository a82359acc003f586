insert into cases (
    case_id, rule, route, program_code, program_name, period, case_key, township, village, group_name,
    persons, amount, department, supervisor, opened_on, deadline, status, reopened_count, last_seen_on,
    summary
)
with final as (
    select
        cur.case_id,
        cur.rule,
        cur.route,
        cur.program_code,
        cur.program_name,
        cur.period,
        cur.case_key,
        cur.township,
        cur.village,
        cur.group_name,
        cur.persons,
        cur.amount,
        cur.department,
        cur.supervisor,
        $as_of as opened_on,
        $as_of + cur.resolve_days as deadline,
        'open' as status,
        0 as reopened_count,
        $as_of as last_seen_on,
        cur.summary
    from case_next as cur
    where cur.event = 'opened'
)

select * from final
order by final.case_id
