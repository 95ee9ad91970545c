-- Metered charges (usage and duration), in arrears: how usage is aggregated (sum the
-- product's metric per subscription and cycle) apart from how it is priced (tiers,
-- through the tier_share mapping). Quantities are exact integers of the base unit
-- (bytes, seconds) scaled by 10^6 so decimal tier bounds compare exactly.
{%- set as_of = "date '" ~ var('as_of') ~ "'" %}

with products as (
    select * from {{ ref('int_subscription_products') }}
    where product_type in ('usage', 'duration')
),

daily as (select * from {{ ref('int_usage_daily') }}),

matched as (
    select
        products.*,
        {{ boundary_after('products.anchor_day', 'daily.usage_date') }} as bill_mi,
        case products.metric
            when 'bytes_in' then daily.bytes_in
            when 'bytes_out' then daily.bytes_out
            when 'bytes_total' then daily.bytes_in + daily.bytes_out
            when 'seconds' then daily.seconds
        end as base_quantity
    from products
    inner join daily
        on products.account_id = daily.account_id
        and daily.usage_date >= products.start_date
        and (products.end_date is null or daily.usage_date < products.end_date)
),

aggregated as (
    select
        billing_account_id, realm_id, minor_units, anchor_day, bill_mi, account_id,
        subscription_id, product_id, product_type, effective_from, taxable, unit_divisor,
        tier_mode,
        cast(sum(base_quantity) as hugeint) as base_quantity
    from matched
    where {{ boundary('anchor_day', 'bill_mi') }} <= {{ as_of }}
    group by all
),

tiered as (
    select
        aggregated.*,
        {{ tier_share(
            'aggregated.base_quantity * 1000000',
            micros('tiers.lower_bound') ~ ' * aggregated.unit_divisor',
            micros('tiers.upto') ~ ' * aggregated.unit_divisor',
            'tiers.tier_index = 0') }} * {{ micros('tiers.price') }} as amount_numerator
    from aggregated
    inner join {{ ref('stg_ops__product_tiers') }} as tiers
        on aggregated.realm_id = tiers.realm_id
        and aggregated.effective_from = tiers.effective_from
        and aggregated.product_id = tiers.product_id
),

priced as (
    select
        * exclude (amount_numerator),
        sum(amount_numerator) as amount_numerator
    from tiered
    group by all
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
        {{ boundary('anchor_day', 'bill_mi - 1') }} as period_start,
        {{ boundary('anchor_day', 'bill_mi') }} as period_end,
        cast({{ round_div('base_quantity * 1000000000', 'unit_divisor') }} as decimal(38, 0))
            * cast(0.000000001 as decimal(10, 9)) as quantity,
        {{ round_div('amount_numerator * ' ~ pow10('minor_units'),
            'cast(unit_divisor as hugeint) * 1000000000000') }} as amount_minor,
        taxable,
        concat_ws(':', 'sub', subscription_id, product_id, product_type,
            {{ boundary('anchor_day', 'bill_mi - 1') }}) as line_key
    from priced
)

select * from final
