-- External line items, in arrears of their date, on the billing account's invoice.
with items as (select * from {{ ref('stg_ops__line_items') }}),

billing as (select * from {{ ref('int_billing_accounts') }}),

final as (
    select
        billing.billing_account_id,
        billing.realm_id,
        billing.minor_units,
        billing.anchor_day,
        {{ boundary_after('billing.anchor_day', 'items.item_date') }} as bill_mi,
        items.account_id,
        cast(null as bigint) as subscription_id,
        cast(null as varchar) as product_id,
        'item' as kind,
        items.item_date as period_start,
        items.item_date as period_end,
        cast(1 as decimal(38, 9)) as quantity,
        {{ prorated_minor('items.amount', '1', '1', 'billing.minor_units') }} as amount_minor,
        items.taxable,
        concat_ws(':', 'item', items.line_item_id) as line_key,
        items.description
    from items
    inner join billing using (account_id)
)

select * from final
