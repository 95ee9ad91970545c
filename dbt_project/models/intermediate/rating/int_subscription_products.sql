-- Each subscription with each product of its plan, priced by the catalog version in
-- effect on the subscription's start date (customers keep the price they signed up
-- for until they change plan). A table: five charge models and the usage aggregate
-- read it, and as a view each would walk the account tree again.
{{ config(materialized='table') }}
with subscriptions as (select * from {{ ref('stg_ops__subscriptions') }}),

billing as (select * from {{ ref('int_billing_accounts') }}),

products as (select * from {{ ref('stg_ops__products') }}),

plan_products as (select * from {{ ref('stg_ops__plan_products') }}),

final as (
    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        subscriptions.plan_id,
        subscriptions.start_date,
        subscriptions.end_date,
        billing.billing_account_id,
        billing.realm_id,
        billing.minor_units,
        billing.anchor_day,
        products.effective_from,
        products.product_id,
        products.product_type,
        products.price,
        products.months,
        products.refund_unused,
        products.taxable,
        products.metric,
        products.unit_divisor,
        products.tier_mode,
        plan_products.usage_source
    from subscriptions
    inner join billing using (account_id)
    inner join products
        on billing.realm_id = products.realm_id
        and subscriptions.start_date >= products.valid_from
        and (products.valid_to is null or subscriptions.start_date < products.valid_to)
    inner join plan_products
        on products.realm_id = plan_products.realm_id
        and products.effective_from = plan_products.effective_from
        and products.product_id = plan_products.product_id
        and subscriptions.plan_id = plan_products.plan_id
)

select * from final
