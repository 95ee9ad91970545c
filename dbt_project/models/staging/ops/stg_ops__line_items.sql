with source as (select * from {{ ops_table('line_items') }}),

final as (
    select
        line_item_id,
        account_id,
        item_date,
        description,
        cast(amount as decimal(18, 6)) as amount,
        taxable
    from source
)

select * from final
