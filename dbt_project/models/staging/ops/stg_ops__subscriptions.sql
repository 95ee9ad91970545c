with source as (select * from {{ ops_table('subscriptions') }}),

final as (
    select subscription_id, account_id, plan_id, start_date, end_date
    from source
)

select * from final
