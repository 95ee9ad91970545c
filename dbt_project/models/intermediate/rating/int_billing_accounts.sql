-- Every account with the account it is invoiced to (the root of its tree) and that
-- billing account's realm settings and cycle anchor day.
with recursive accounts as (select * from {{ ref('stg_ops__accounts') }}),

tree as (
    select account_id, account_id as billing_account_id
    from accounts
    where parent_id is null
    union all
    select accounts.account_id, tree.billing_account_id
    from accounts
    inner join tree on accounts.parent_id = tree.account_id
),

first_dates as (
    -- anniversary billing anchors on the earliest subscription start of the tree;
    -- a tree with only external line items anchors on its first item
    select
        tree.billing_account_id,
        coalesce(min(subs.start_date), min(items.item_date)) as first_date
    from tree
    left join {{ ref('stg_ops__subscriptions') }} as subs using (account_id)
    left join {{ ref('stg_ops__line_items') }} as items using (account_id)
    group by tree.billing_account_id
),

final as (
    select
        tree.account_id,
        tree.billing_account_id,
        billing.realm_id,
        realms.currency,
        realms.minor_units,
        realms.tax_rate,
        realms.cycle,
        case realms.cycle
            when 'fixed_date' then realms.cycle_day
            else day(first_dates.first_date)
        end as anchor_day
    from tree
    inner join accounts as billing on tree.billing_account_id = billing.account_id
    inner join {{ ref('stg_ops__realms') }} as realms on billing.realm_id = realms.realm_id
    left join first_dates using (billing_account_id)
)

select * from final
