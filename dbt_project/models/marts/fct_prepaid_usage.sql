-- What each prepaid billing account's metered usage costs so far, per cycle (bill_date,
-- the cycle's end), open cycle included: `subtotal`, and `tax` on its taxable part as its
-- invoice will tax it (macros/invoice_totals.sql). The rating run deducts from the prepaid
-- balance what of `total` it has not deducted yet (jet/prepaid.py).
with lines as (
    select *, period_end as bill_date from {{ ref('int_usage_charges_to_date') }}
),

{{ invoice_totals() }}
