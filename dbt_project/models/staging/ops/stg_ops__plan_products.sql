with source as (select * from {{ ops_table('plan_products') }})

select realm_id, effective_from, plan_id, product_id, usage_source from source
