-- One row per product per catalog version. A version is valid from its effective_from
-- (the first one from the beginning of time) until the next version's.
with source as (select * from {{ ops_table('products') }}),

versions as (
    select distinct realm_id, effective_from from source
),

validity as (
    select
        realm_id,
        effective_from,
        case when effective_from = min(effective_from) over (partition by realm_id)
            then date '1900-01-01' else effective_from end as valid_from,
        lead(effective_from) over (partition by realm_id order by effective_from) as valid_to
    from versions
),

final as (
    select
        source.realm_id,
        source.effective_from,
        validity.valid_from,
        validity.valid_to,
        source.product_id,
        source.product_type,
        cast(source.price as decimal(18, 6)) as price,
        source.months,
        source.refund_unused,
        source.taxable,
        source.metric,
        source.unit,
        source.unit_divisor,
        source.tier_mode
    from source
    inner join validity using (realm_id, effective_from)
)

select * from final
