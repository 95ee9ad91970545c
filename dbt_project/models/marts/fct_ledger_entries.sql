-- Every ledger entry (invoices, credit notes, payments, refunds, reversals, write-offs,
-- top-ups, prepaid usage), signed, with what of it is settled and what is still open.
with entries as (select * from {{ ref('int_ledger_entries_allocated') }}),

final as (
    select
        entry_id,
        account_id,
        realm_id,
        currency,
        kind,
        side,
        amount,
        entry_date,
        recorded_at,
        invoice_number,
        method,
        reference,
        reason,
        target_entry_id,
        related_entry_id,
        allocated,
        open_amount
    from entries
)

select * from final
