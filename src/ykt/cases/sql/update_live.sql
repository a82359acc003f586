-- one UPDATE per row and night (a row updated twice in one DuckDB transaction is very slow):
-- every live case is refreshed, and escalated or reopened when tonight says so
update cases
set
    status = case cur.event when 'escalated' then 'escalated' when 'reopened' then 'open' else cases.status end,
    escalated_on = case cur.event
        when 'escalated' then $as_of when 'reopened' then null else cases.escalated_on
    end,
    resolved_on = case when cur.event = 'reopened' then null else cases.resolved_on end,
    days_to_resolve = case when cur.event = 'reopened' then null else cases.days_to_resolve end,
    reopened_on = case when cur.event = 'reopened' then $as_of else cases.reopened_on end,
    reopened_count = cases.reopened_count + case when cur.event = 'reopened' then 1 else 0 end,
    deadline = case when cur.event = 'reopened' then $as_of + cur.resolve_days else cases.deadline end,
    program_code = cur.program_code,
    program_name = cur.program_name,
    period = cur.period,
    case_key = cur.case_key,
    township = cur.township,
    village = cur.village,
    group_name = cur.group_name,
    persons = cur.persons,
    amount = cur.amount,
    department = cur.department,
    supervisor = cur.supervisor,
    last_seen_on = $as_of,
    summary = cur.summary
from case_next as cur
where cases.case_id = cur.case_id and cur.event is distinct from 'opened'
