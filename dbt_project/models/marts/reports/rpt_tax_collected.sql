-- The figures of a GST/VAT return: per realm, currency, tax rate and month of issue, the
-- taxable and the untaxed amounts of the issued invoices less credit notes, and the tax
-- they charged (the documents' own tax, rounded as each was issued).
with invoices as (select * from {{ ref('stg_ops__invoices') }}),

lines as (
    select
        invoice_number,
        sum(case when taxable then amount else 0 end) as taxable,
        sum(case when taxable then 0 else amount end) as untaxed
    from {{ ref('stg_ops__issued_lines') }}
    group by invoice_number
),

final as (
    select
        invoices.realm_id,
        invoices.currency,
        realms.tax_rate,
        date_trunc('month', invoices.bill_date)::date as month,
        count(*) filter (where invoices.document_kind = 'invoice') as invoices,
        count(*) filter (where invoices.document_kind <> 'invoice') as credit_notes,
        cast(sum(coalesce(lines.taxable, 0)) as decimal(18, 3)) as taxable,
        cast(sum(coalesce(lines.untaxed, 0)) as decimal(18, 3)) as untaxed,
        cast(sum(invoices.tax) as decimal(18, 3)) as tax,
        cast(sum(invoices.total) as decimal(18, 3)) as total
    from invoices
    inner join {{ ref('stg_ops__realms') }} as realms using (realm_id)
    left join lines using (invoice_number)
    group by all
)

select * from final
order by realm_id, currency, month
