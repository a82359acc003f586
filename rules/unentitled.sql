-- UNENTITLED 无依据发放: successful payment(s) for a key with no current roster row;
-- one finding per key (rows superseded by a corrected roster do not count).
with final as (
    select
        * exclude (facts) replace (
            format(
                '{} 期成功发放 {} 笔共 {} 元，但现行花名册中没有该对象该期的应发记录',
                period, facts.successes, amount_paid::varchar
            ) as detail
        )
    from reconciliation
    where not facts.is_entitled
        and facts.successes > 0
        -- a one-edit ID mistake is ID_MISMATCH's finding, not this rule's
        and facts.key_hash not in (select bank_key from id_mismatches)
)

select * from final
