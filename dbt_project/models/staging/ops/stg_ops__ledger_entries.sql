with source as (select * from {{ ops_table('ledger_entries') }}),

final as (
    select
        entry_id,
        account_id,
        realm_id,
        currency,
        kind,
        cast(amount as decimal(18, 3)) as amount,
        entry_date,
        recorded_at,
        invoice_number,
        target_entry_id,
        related_entry_id,
        method,
        reference,
        reason
    from source
)

select * from final
