-- Each case as the object of one cases.jsonl / clues.jsonl line and of one platform delivery
-- (fields in the order of ykt.cases.CASE_FIELDS), with what listings filter on.
create or replace temp view case_objects as
with county as (
    select max(county_code) as code from runs
),

final as (
    select
        c.case_id,
        c.route,
        c.status,
        c.resolved_on,
        struct_pack(
            case_id := c.case_id,
            rule := c.rule,
            program_code := c.program_code,
            program_name := c.program_name,
            period := c.period,
            township := c.township,
            village := c.village,
            "group" := c.group_name,
            persons := c.persons,
            amount := c.amount,
            department := c.department,
            supervisor := c.supervisor,
            opened_on := c.opened_on,
            deadline := c.deadline,
            status := c.status,
            resolved_on := c.resolved_on,
            summary := c.summary,
            -- the warehouse's county (one per warehouse, see runs.county_code); null without counties.yaml
            county_code := county.code
        ) as case_object
    from cases as c
    cross join county
)

select * from final
