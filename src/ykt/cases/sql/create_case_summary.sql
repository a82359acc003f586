create or replace temp table case_summary (case_id varchar, summary varchar)
