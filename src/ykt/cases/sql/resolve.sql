update cases
set
    status = 'resolved',
    resolved_on = $as_of,
    days_to_resolve = $as_of - coalesce(cases.reopened_on, cases.opened_on),
    summary = coalesce(cases.summary, '') || strftime($as_of, '%Y-%m-%d') || '复核：该问题已不存在，案件办结。'
from case_changes as ch
where ch.event = 'resolved' and cases.case_id = ch.case_id
