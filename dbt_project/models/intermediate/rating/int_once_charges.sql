-- Once-off fees, in arrears of the subscription start.
with subs as (
    select * from {{ ref('int_subscription_products') }}
    where product_type = 'once'
),

final as (
    select
        billing_account_id,
        realm_id,
        minor_units,
        anchor_day,
        {{ boundary_after('anchor_day', 'start_date') }} as bill_mi,
        account_id,
        subscription_id,
        product_id,
        'once' as kind,
        start_date as period_start,
        start_date as period_end,
        cast(1 as decimal(38, 9)) as quantity,
        {{ prorated_minor('price', '1', '1', 'minor_units') }} as amount_minor,
        taxable,
        concat_ws(':', 'sub', subscription_id, product_id, 'once') as line_key
    from subs
)

select * from final
