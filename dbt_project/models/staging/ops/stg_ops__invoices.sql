with source as (select * from {{ ops_table('invoices') }}),

final as (
    select
        invoice_number,
        document_kind,
        credits_invoice_number,
        realm_id,
        account_id as billing_account_id,
        bill_date,
        currency,
        cast(subtotal as decimal(18, 3)) as subtotal,
        cast(tax as decimal(18, 3)) as tax,
        cast(total as decimal(18, 3)) as total,
        issued_at
    from source
)

select * from final
