-- Issued invoices as the operational store holds them (facts, never recomputed), with
-- what is paid and due of each as of the snapshot: of a credit note, amount_paid is the
-- part of it applied (negative) and amount_due the credit still unused. Null for a
-- document that has no ledger entry.
with invoices as (select * from {{ ref('stg_ops__invoices') }}),

entries as (
    select invoice_number, amount, allocated, open_amount
    from {{ ref('int_ledger_entries_allocated') }}
    where invoice_number is not null
),

final as (
    select
        invoices.*,
        cast(sign(entries.amount) * entries.allocated as decimal(18, 3)) as amount_paid,
        entries.open_amount as amount_due
    from invoices
    left join entries using (invoice_number)
)

select * from final
