-- Revenue per realm, currency, plan, product and month: `billed` is what the issued
-- invoices and credit notes charged in the month (net of tax), `earned` what of all that
-- was billed belongs to the month: advance charges spread evenly over the days of the
-- period they pay for, everything else earned in the month it is billed. `deferred` is
-- billed less earned to the month's end: what was billed ahead (docs/reports.md).
with lines as (
    select
        lines.realm_id,
        invoices.currency,
        coalesce(subscriptions.plan_id, '(none)') as plan_id,
        coalesce(lines.product_id, lines.kind) as product_id,
        lines.kind,
        lines.bill_date,
        lines.period_start,
        lines.period_end,
        lines.amount
    from {{ ref('stg_ops__issued_lines') }} as lines
    inner join {{ ref('stg_ops__invoices') }} as invoices using (invoice_number)
    left join {{ ref('stg_ops__subscriptions') }} as subscriptions using (subscription_id)
),

spread as (
    -- an advance line's days in each month of [period_start, period_end)
    select
        lines.*,
        unnest(generate_series(
            date_trunc('month', period_start), date_trunc('month', period_end - 1),
            interval 1 month
        ))::date as month
    from lines
    where kind = 'advance' and period_end > period_start
),

earned_advance as (
    select
        realm_id, currency, plan_id, product_id, month,
        amount
        * (least(period_end, (month + interval 1 month)::date) - greatest(period_start, month))
        / (period_end - period_start) as earned
    from spread
),

earned_at_once as (
    select realm_id, currency, plan_id, product_id,
        date_trunc('month', bill_date)::date as month, amount as earned
    from lines
    where not (kind = 'advance' and period_end > period_start)
),

earned as (
    select realm_id, currency, plan_id, product_id, month, sum(earned) as earned
    from (select * from earned_advance union all select * from earned_at_once)
    group by all
),

billed as (
    select realm_id, currency, plan_id, product_id,
        date_trunc('month', bill_date)::date as month, sum(amount) as billed
    from lines
    group by all
),

monthly as (
    select
        realm_id, currency, plan_id, product_id, month,
        coalesce(billed.billed, 0) as billed,
        coalesce(earned.earned, 0) as earned
    from billed
    full outer join earned using (realm_id, currency, plan_id, product_id, month)
),

final as (
    select
        realm_id,
        currency,
        plan_id,
        product_id,
        month,
        cast(billed as decimal(18, 3)) as billed,
        cast(round(earned, 3) as decimal(18, 3)) as earned,
        cast(round(
            sum(billed - earned) over (
                partition by realm_id, currency, plan_id, product_id order by month
            ), 3
        ) as decimal(18, 3)) as deferred
    from monthly
)

select * from final
order by realm_id, currency, month, plan_id, product_id
