-- A single-price usage product arrives as one unbounded tier, so pricing has one path.
with source as (select * from {{ ops_table('product_tiers') }}),

final as (
    select
        realm_id,
        effective_from,
        product_id,
        tier_index,
        cast(lower_bound as decimal(18, 6)) as lower_bound,
        cast(upto as decimal(18, 6)) as upto,
        cast(price as decimal(18, 6)) as price
    from source
)

select * from final
