-- What the case sentences are made of: amounts and dates already as the text they read as.
with final as (
    select
        cur.case_id,
        cur.rule,
        cur.route,
        cur.persons,
        cur.findings,
        cur.name,
        cur.id_number,
        cur.card_number,
        cur.township,
        cur.village,
        cur.group_name,
        cur.program_name,
        cur.period,
        strftime(cur.due_date, '%Y-%m-%d') as due_text,
        cur.days_overdue,
        format('{:,.2f}', cur.amount) as amount_text,
        format('{:,.2f}', coalesce(cur.amount_due, 0)) as due_amount_text,
        format('{:,.2f}', coalesce(cur.amount_paid, 0)) as paid_amount_text
    from case_current as cur
)

select * from final
