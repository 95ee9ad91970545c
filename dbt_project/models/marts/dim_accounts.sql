with accounts as (select * from {{ ref('stg_ops__accounts') }}),

billing as (select * from {{ ref('int_billing_accounts') }}),

realms as (select realm_id, realm_name from {{ ref('stg_ops__realms') }}),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.realm_id,
        realms.realm_name,
        accounts.parent_id,
        billing.billing_account_id,
        accounts.status,
        accounts.tax_id,
        billing.currency,
        billing.cycle,
        billing.anchor_day
    from accounts
    inner join billing using (account_id)
    inner join realms on accounts.realm_id = realms.realm_id
)

select * from final
