-- A county's cases at as_of for the province summary: count per status and the money at stake (the amount
-- of every open or escalated case), complaints and clues together.
with final as (
    select
        count(*) filter (where status = 'open')::integer as open,
        count(*) filter (where status = 'escalated')::integer as escalated,
        count(*) filter (where status = 'resolved')::integer as resolved,
        coalesce(sum(amount) filter (where status in ('open', 'escalated')), 0)::decimal(18, 2) as money_at_stake
    from cases
    where opened_on <= $as_of
)

select * from final
