-- How far each metered subscription is through its plan's included usage, per cycle: a
-- usage or duration product whose first tier is free (`tiers: [{upto: N, price: "0"},
-- ...]`) includes N units a cycle. One row per subscription, product and cycle that has
-- usage, open cycles included (a warning is worth most before the bill). `threshold`
-- is the highest of 80 and 100 (per cent of the allowance) that the usage has reached,
-- null below 80; the rating run announces each crossing once (usage.threshold_crossed).
with products as (
    select * from {{ ref('int_subscription_products') }}
    where product_type in ('usage', 'duration')
),

allowances as (
    select realm_id, effective_from, product_id, upto as included
    from {{ ref('stg_ops__product_tiers') }}
    where tier_index = 0 and price = 0 and upto is not null
),

cycles as (select * from {{ ref('int_usage_by_cycle') }}),

measured as (
    select
        products.billing_account_id,
        products.realm_id,
        products.account_id,
        products.subscription_id,
        products.product_id,
        {{ boundary('products.anchor_day', 'cycles.bill_mi - 1') }} as period_start,
        {{ boundary('products.anchor_day', 'cycles.bill_mi') }} as period_end,
        products.unit_divisor,
        allowances.included,
        {{ metered_quantity('products.metric', 'cycles') }} as base_quantity
    from products
    inner join allowances
        on products.realm_id = allowances.realm_id
        and products.effective_from = allowances.effective_from
        and products.product_id = allowances.product_id
    inner join cycles using (subscription_id)
),

final as (
    select
        billing_account_id,
        realm_id,
        account_id,
        subscription_id,
        product_id,
        period_start,
        period_end,
        -- exact to 9 places, as the usage lines' quantities
        cast({{ round_div('base_quantity * 1000000000', 'unit_divisor') }} as decimal(38, 0))
            * cast(0.000000001 as decimal(10, 9)) as used,
        included,
        -- compared in whole micro-units, so 80 % of a decimal allowance is exact
        case
            when base_quantity * 100000000
                >= {{ micros('included') }} * unit_divisor * 100 then 100
            when base_quantity * 100000000
                >= {{ micros('included') }} * unit_divisor * 80 then 80
        end as threshold
    from measured
)

select * from final
