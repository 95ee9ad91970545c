-- What each prepaid billing account's metered usage costs so far, per cycle (bill_date,
-- the cycle's end), open cycle included, with tax on its taxable part as its invoice will
-- tax it (half away from zero). The rating run deducts from the prepaid balance what of
-- `amount` it has not deducted yet (jet/prepaid.py).
with charges as (select * from {{ ref('int_usage_charges_to_date') }}),

realms as (select * from {{ ref('stg_ops__realms') }}),

summed as (
    select
        billing_account_id,
        period_end as bill_date,
        realm_id,
        minor_units,
        sum(amount_minor) as usage_minor,
        sum(case when taxable then amount_minor else 0 end) as taxable_minor
    from charges
    group by all
),

taxed as (
    select
        summed.*,
        realms.currency,
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
        {{ minor_to_decimal('usage_minor', 'minor_units') }} as usage,
        {{ minor_to_decimal('tax_minor', 'minor_units') }} as tax,
        {{ minor_to_decimal('usage_minor + tax_minor', 'minor_units') }} as amount
    from taxed
)

select * from final
