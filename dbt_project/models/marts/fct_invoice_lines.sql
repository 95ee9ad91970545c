-- Every invoice line: the issued ones (invoices and credit notes, facts from the store)
-- and the pending drafts that the next issue step for their bill date will take.
with issued as (
    select
        line_key, line_id, billing_account_id, realm_id, bill_date, account_id, subscription_id,
        product_id, kind, period_start, period_end, quantity, minor_units, amount_minor,
        amount, taxable, description, false as is_late,
        'issued' as status, invoice_number, document_kind
    from {{ ref('stg_ops__issued_lines') }}
),

pending as (
    select
        *,
        'draft' as status,
        cast(null as varchar) as invoice_number,
        'invoice' as document_kind
    from {{ ref('int_invoice_lines_pending') }}
),

final as (
    select * from issued
    union all by name
    select * from pending
)

select * from final
