with source as (select * from {{ ops_table('allocations') }}),

final as (
    select
        allocation_id,
        credit_entry_id,
        debit_entry_id,
        cast(amount as decimal(18, 3)) as amount,
        allocated_at
    from source
)

select * from final
