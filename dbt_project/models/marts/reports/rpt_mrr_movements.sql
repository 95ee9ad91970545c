-- Monthly recurring revenue per realm, currency and month, and how it moved: each
-- account's MRR at the month's end is its subscriptions' flat charges in force then, each
-- price over its period in months (a quarterly 237.00 is 79.00 a month). Against the
-- month before, an account that had none is `new` (or `reactivation` if it had MRR in an
-- earlier month), one that has none is `churn`, a rise is `expansion` and a fall
-- `contraction`; closing = opening + new + reactivation + expansion - contraction - churn.
with recurring as (
    select realm_id, account_id, start_date, end_date,
        cast(price / months as decimal(18, 6)) as monthly
    from {{ ref('int_subscription_products') }}
    where product_type = 'flat' and months > 0
),

realms as (select realm_id, currency from {{ ref('stg_ops__realms') }}),

months as (
    select unnest(generate_series(
        (select date_trunc('month', min(start_date)) from recurring),
        date_trunc('month', {{ as_of() }}),
        interval 1 month
    ))::date as month
),

account_months as (
    -- each account's MRR on the last day of each month (a subscription in force on it)
    select
        recurring.realm_id,
        recurring.account_id,
        months.month,
        sum(recurring.monthly) as mrr
    from months
    inner join recurring
        on recurring.start_date <= (months.month + interval 1 month - interval 1 day)::date
        and (recurring.end_date is null
             or recurring.end_date > (months.month + interval 1 month - interval 1 day)::date)
    group by all
),

accounts as (select distinct realm_id, account_id from account_months),

grid as (
    select accounts.realm_id, accounts.account_id, months.month,
        coalesce(account_months.mrr, 0) as mrr
    from accounts
    cross join months
    left join account_months using (realm_id, account_id, month)
),

moves as (
    select
        realm_id,
        month,
        mrr,
        coalesce(lag(mrr) over (partition by realm_id, account_id order by month), 0) as before,
        coalesce(max(mrr) over (
            partition by realm_id, account_id order by month
            rows between unbounded preceding and 2 preceding
        ), 0) as earlier_peak
    from grid
),

final as (
    select
        moves.realm_id,
        realms.currency,
        moves.month,
        cast(sum(before) as decimal(18, 6)) as opening_mrr,
        cast(sum(mrr) filter (where before = 0 and mrr > 0 and earlier_peak = 0)
            as decimal(18, 6)) as new,
        cast(sum(mrr) filter (where before = 0 and mrr > 0 and earlier_peak > 0)
            as decimal(18, 6)) as reactivation,
        cast(sum(mrr - before) filter (where before > 0 and mrr > before)
            as decimal(18, 6)) as expansion,
        cast(sum(before - mrr) filter (where mrr > 0 and mrr < before)
            as decimal(18, 6)) as contraction,
        cast(sum(before) filter (where before > 0 and mrr = 0) as decimal(18, 6)) as churn,
        cast(sum(mrr) as decimal(18, 6)) as closing_mrr,
        count(*) filter (where mrr > 0) as paying_accounts
    from moves
    inner join realms using (realm_id)
    group by all
)

select
    realm_id, currency, month, opening_mrr,
    coalesce(new, 0) as new,
    coalesce(reactivation, 0) as reactivation,
    coalesce(expansion, 0) as expansion,
    coalesce(contraction, 0) as contraction,
    coalesce(churn, 0) as churn,
    closing_mrr,
    paying_accounts
from final
order by realm_id, month
