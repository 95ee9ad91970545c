-- Lines of issued invoices and credit notes: facts, as the operational store holds them.
with source as (select * from {{ ops_table('issued_lines') }}),

realms as (select realm_id, minor_units from {{ ref('stg_ops__realms') }}),

final as (
    select
        source.line_key,
        source.line_id,
        source.invoice_number,
        source.document_kind,
        source.billing_account_id,
        source.realm_id,
        source.bill_date,
        source.account_id,
        source.subscription_id,
        source.product_id,
        source.kind,
        source.description,
        source.period_start,
        source.period_end,
        cast(source.quantity as decimal(38, 9)) as quantity,
        realms.minor_units,
        cast(round(source.amount * {{ pow10('realms.minor_units') }}) as bigint) as amount_minor,
        cast(source.amount as decimal(18, 3)) as amount,
        source.taxable
    from source
    inner join realms using (realm_id)
)

select * from final
