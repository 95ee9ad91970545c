-- Every line rating produces for bill dates up to `as_of`, in one shape, whether or not
-- it was issued already (int_invoice_lines_pending takes away what was).

with charges as (
    select *, null as description from {{ ref('int_flat_charges') }}
    union all by name
    select *, null as description from {{ ref('int_once_charges') }}
    union all by name
    select *, null as description from {{ ref('int_usage_charges') }}
    union all by name
    select * from {{ ref('int_item_charges') }}
),

dated as (
    select *, {{ boundary('anchor_day', 'bill_mi') }} as bill_date
    from charges
),

final as (
    select
        line_key,
        billing_account_id,
        realm_id,
        bill_date,
        account_id,
        subscription_id,
        product_id,
        kind,
        period_start,
        period_end,
        quantity,
        minor_units,
        cast(amount_minor as bigint) as amount_minor,
        {{ minor_to_decimal('amount_minor', 'minor_units') }} as amount,
        taxable,
        coalesce(description, concat(product_id, ' (', replace(kind, '_', '-'), ')')) as description
    from dated
    where bill_date <= {{ as_of() }}
)

select * from final
