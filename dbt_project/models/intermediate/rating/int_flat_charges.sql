-- Recurring fees (billing-rules.md, "Recurring periods and pro-rata"): service periods
-- aligned to cycle boundaries every `months` boundaries from the first boundary on or
-- after the start; a pro-rated catch-up for a start between boundaries; a backward
-- pro-rata refund for an end inside a charged period. Each boundary date is built
-- once per row, in the CTE that names it, and reused from there.

with flat as (
    select
        *,
        {{ boundary_on_or_after('anchor_day', 'start_date') }} as first_mi
    from {{ ref('int_subscription_products') }}
    where product_type = 'flat'
),

subs as (
    select
        *,
        {{ boundary('anchor_day', 'first_mi') }} as first_boundary
    from flat
),

catch_up as (
    select
        *,
        'catch_up' as kind,
        first_mi as bill_mi,
        start_date as period_start,
        first_boundary as period_end,
        date_diff('day', {{ boundary('anchor_day', 'first_mi - months') }}, first_boundary)
            as period_days,
        1 as sign
    from subs
    where start_date <> first_boundary
),

advance_periods as (
    select
        *,
        first_mi + months * unnest(generate_series(0,
            greatest({{ month_index(as_of()) }} - first_mi, -1) // months)) as period_mi
    from subs
),

advance_dated as (
    select
        *,
        {{ boundary('anchor_day', 'period_mi') }} as period_start,
        {{ boundary('anchor_day', 'period_mi + months') }} as period_end
    from advance_periods
),

advance as (
    select
        *,
        'advance' as kind,
        period_mi as bill_mi,
        date_diff('day', period_start, period_end) as period_days,
        1 as sign
    from advance_dated
    where end_date is null or period_start < end_date
),

ended as (
    -- the charged period that holds the end date: the catch-up, or the regular period
    -- counted from the first boundary (the last boundary on or before the end is the
    -- one before the end's bill month)
    select
        *,
        {{ boundary_after('anchor_day', 'end_date') }} as end_bill_mi
    from subs
    where end_date is not null and refund_unused
),

ended_periods as (
    select
        *,
        case when end_date < first_boundary then first_mi - months
            else first_mi + months * ((end_bill_mi - 1 - first_mi) // months)
        end as period_mi
    from ended
),

ended_dated as (
    select
        *,
        {{ boundary('anchor_day', 'period_mi') }} as charged_from,
        {{ boundary('anchor_day', 'period_mi + months') }} as period_end
    from ended_periods
),

refund as (
    select
        * exclude (end_bill_mi, charged_from),
        'refund' as kind,
        end_bill_mi as bill_mi,
        end_date as period_start,
        date_diff('day', charged_from, period_end) as period_days,
        -1 as sign
    from ended_dated
    where end_date > greatest(start_date, charged_from)
),

periods as (
    select * exclude (period_mi) from advance
    union all by name
    select * from catch_up
    union all by name
    select * exclude (period_mi) from refund
),

final as (
    select
        billing_account_id,
        realm_id,
        minor_units,
        anchor_day,
        bill_mi,
        account_id,
        subscription_id,
        product_id,
        kind,
        period_start,
        period_end,
        cast(1 as decimal(38, 9)) as quantity,
        sign * {{ prorated_minor('price', 'date_diff(\'day\', period_start, period_end)',
            'period_days', 'minor_units') }} as amount_minor,
        taxable,
        concat_ws(':', 'sub', subscription_id, product_id, kind, period_start) as line_key
    from periods
)

select * from final
