{#- Metered charges (usage and duration) of the cycles `cycles` (a condition on
    period_start and period_end): how usage is priced, apart from how it is aggregated
    (int_usage_by_cycle sums each subscription's usage per cycle). Each metered product
    takes its metric from those sums and is priced through the tier_share mapping.
    Quantities are exact integers of the base unit (bytes, seconds) scaled by 10^6 so
    decimal tier bounds compare exactly. int_usage_charges bills the closed cycles;
    int_usage_charges_to_date adds the open one, for prepaid balances. -#}
{% macro usage_charges(cycles) %}
with products as (
    select * from {{ ref('int_subscription_products') }}
    where product_type in ('usage', 'duration')
),

cycles as (select * from {{ ref('int_usage_by_cycle') }}),

measured as (
    select
        products.billing_account_id,
        products.realm_id,
        products.minor_units,
        products.anchor_day,
        cycles.bill_mi,
        products.account_id,
        products.subscription_id,
        products.product_id,
        products.product_type,
        products.effective_from,
        products.taxable,
        products.unit_divisor,
        products.tier_mode,
        {{ boundary('products.anchor_day', 'cycles.bill_mi - 1') }} as period_start,
        {{ boundary('products.anchor_day', 'cycles.bill_mi') }} as period_end,
        {{ metered_quantity('products.metric', 'cycles') }} as base_quantity
    from products
    inner join cycles using (subscription_id)
),

billable as (
    select * from measured
    where {{ cycles }}
),

tiered as (
    select
        billable.subscription_id,
        billable.product_id,
        billable.bill_mi,
        {{ tier_share(
            'billable.base_quantity * 1000000',
            micros('tiers.lower_bound') ~ ' * billable.unit_divisor',
            micros('tiers.upto') ~ ' * billable.unit_divisor',
            'tiers.tier_index = 0') }} * {{ micros('tiers.price') }} as amount_numerator
    from billable
    inner join {{ ref('stg_ops__product_tiers') }} as tiers
        on billable.realm_id = tiers.realm_id
        and billable.effective_from = tiers.effective_from
        and billable.product_id = tiers.product_id
),

tier_sums as (
    select subscription_id, product_id, bill_mi, sum(amount_numerator) as amount_numerator
    from tiered
    group by subscription_id, product_id, bill_mi
),

priced as (
    select billable.*, tier_sums.amount_numerator
    from billable
    inner join tier_sums using (subscription_id, product_id, bill_mi)
),

final as (
    select
        billing_account_id,
        realm_id,
        minor_units,
        anchor_day,
        bill_mi,
        account_id,
        subscription_id,
        product_id,
        product_type as kind,
        period_start,
        period_end,
        cast({{ round_div('base_quantity * 1000000000', 'unit_divisor') }} as decimal(38, 0))
            * cast(0.000000001 as decimal(10, 9)) as quantity,
        {{ round_div('amount_numerator * ' ~ pow10('minor_units'),
            'cast(unit_divisor as hugeint) * 1000000000000') }} as amount_minor,
        taxable,
        concat_ws(':', 'sub', subscription_id, product_id, product_type, period_start)
            as line_key
    from priced
)

select * from final
{% endmacro %}
