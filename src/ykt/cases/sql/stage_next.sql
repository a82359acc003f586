-- Every live case with its summary and tonight's event, as ONE table: DuckDB updates from a
-- single materialised source cheaply, from a three-way join at great cost (bench/README.md).
create or replace temp table case_next as
with final as (
    select
        cur.*,
        s.summary,
        ch.event
    from case_current as cur
    inner join case_summary as s on cur.case_id = s.case_id
    left join case_changes as ch on cur.case_id = ch.case_id
)

select * from final
