-- What is still to invoice: rated lines not yet issued, and for usage and duration the
-- part of a cycle that arrived after the cycle was invoiced (rated total minus what was
-- issued for that cycle: tiers are re-priced on the whole, never twice). A pending line
-- whose bill date already has its account's invoice moves to the next bill date after
-- the account's last invoice, as its own line: late usage is billed on the next invoice.

with rated as (select * from {{ ref('int_invoice_lines_rated') }}),

issued as (
    select * from {{ ref('stg_ops__issued_lines') }}
    where document_kind = 'invoice'
),

billing as (
    select distinct billing_account_id, anchor_day from {{ ref('int_billing_accounts') }}
),

last_invoiced as (
    select billing_account_id, max(bill_date) as last_bill_date
    from {{ ref('stg_ops__invoices') }}
    where document_kind = 'invoice'
    group by billing_account_id
),

next_bill_dates as (
    -- once per invoiced billing account, not per line
    select
        billing_account_id,
        last_invoiced.last_bill_date,
        {{ boundary('billing.anchor_day',
            boundary_after('billing.anchor_day', 'last_invoiced.last_bill_date')) }}
            as next_bill_date
    from last_invoiced
    inner join billing using (billing_account_id)
),

metered_issued as (
    select
        subscription_id, product_id, kind, period_start,
        sum(quantity) as quantity,
        sum(amount_minor) as amount_minor
    from issued
    where kind in ('usage', 'duration')
    group by all
),

metered as (
    select
        rated.* exclude (quantity, amount_minor),
        rated.quantity - coalesce(metered_issued.quantity, 0) as quantity,
        rated.amount_minor - coalesce(metered_issued.amount_minor, 0) as amount_minor,
        metered_issued.subscription_id is not null as partly_issued
    from rated
    left join metered_issued using (subscription_id, product_id, kind, period_start)
    where rated.kind in ('usage', 'duration')
),

unsettled as (
    -- a cycle never invoiced keeps its line even at zero (billing-rules.md); an invoiced
    -- one only when more arrived
    select * from metered
    where not partly_issued or quantity <> 0 or amount_minor <> 0
    union all by name
    select rated.*, false as partly_issued from rated
    where rated.kind not in ('usage', 'duration')
        and rated.line_key not in (select line_key from issued)
),

redated as (
    select
        unsettled.*,
        coalesce(unsettled.bill_date <= next_bill_dates.last_bill_date, false) as is_late,
        next_bill_dates.next_bill_date
    from unsettled
    left join next_bill_dates using (billing_account_id)
),

moved as (
    select
        * exclude (bill_date, description, next_bill_date),
        case when is_late then next_bill_date else bill_date end as bill_date,
        case when is_late then concat(description, ' - late, for ', period_start, ' to ',
            period_end) else description end as description
    from redated
),

final as (
    select
        case when partly_issued then concat(line_key, ':late:', bill_date) else line_key end
            as line_key,
        * exclude (line_key, partly_issued, amount),
        {{ minor_to_decimal('amount_minor', 'minor_units') }} as amount
    from moved
    where bill_date <= {{ as_of() }}
)

select * from final
