{#- Invoice totals per billing account and bill date of the CTE `lines` (billing_account_id,
    bill_date, realm_id, minor_units, amount_minor, taxable) that precedes the call: tax
    per invoice on the rounded taxable lines, half away from zero. The draft invoices, and
    what a prepaid account's usage so far costs with its tax (fct_prepaid_usage). -#}
{% macro invoice_totals() %}
realms as (select * from {{ ref('stg_ops__realms') }}),

summed as (
    select
        billing_account_id,
        bill_date,
        realm_id,
        minor_units,
        count(*) as line_count,
        sum(amount_minor) as subtotal_minor,
        sum(case when taxable then amount_minor else 0 end) as taxable_minor
    from lines
    group by all
),

taxed as (
    select
        summed.*,
        realms.currency,
        realms.tax_rate,
        {{ tax_minor('taxable_minor', 'realms.tax_rate') }} as tax_minor
    from summed
    inner join realms using (realm_id)
),

final as (
    select
        billing_account_id,
        bill_date,
        realm_id,
        currency,
        minor_units,
        tax_rate,
        line_count,
        {{ minor_to_decimal('subtotal_minor', 'minor_units') }} as subtotal,
        {{ minor_to_decimal('tax_minor', 'minor_units') }} as tax,
        {{ minor_to_decimal('subtotal_minor + tax_minor', 'minor_units') }} as total
    from taxed
)

select * from final
{% endmacro %}
