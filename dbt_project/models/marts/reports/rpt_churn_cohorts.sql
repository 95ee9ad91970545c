-- Retention by cohort: accounts grouped by the month their first subscription started,
-- and for each month since, how many still had a subscription in force on the month's
-- last day, their share of the cohort, and how many of those active the month before
-- were not (churned). Up to the month of the run's last bill date.
with subscriptions as (select * from {{ ref('stg_ops__subscriptions') }}),

accounts as (select account_id, realm_id from {{ ref('stg_ops__accounts') }}),

cohorts as (
    select
        accounts.realm_id,
        subscriptions.account_id,
        date_trunc('month', min(subscriptions.start_date))::date as cohort_month
    from subscriptions
    inner join accounts using (account_id)
    group by all
),

months as (
    select unnest(generate_series(
        (select min(cohort_month) from cohorts),
        date_trunc('month', {{ as_of() }}),
        interval 1 month
    ))::date as month
),

-- each cohort account in each month from its cohort's on, active if a subscription was
-- in force on the month's last day
account_months as (
    select
        cohorts.realm_id,
        cohorts.cohort_month,
        cohorts.account_id,
        months.month,
        exists (
            select 1 from subscriptions
            where subscriptions.account_id = cohorts.account_id
                and subscriptions.start_date <= last_day(months.month)
                and (subscriptions.end_date is null
                     or subscriptions.end_date > last_day(months.month))
        ) as active
    from cohorts
    inner join months on months.month >= cohorts.cohort_month
),

changes as (
    select
        *,
        coalesce(lag(active) over (
            partition by account_id order by month
        ), false) as was_active
    from account_months
),

final as (
    select
        realm_id,
        cohort_month,
        month,
        datediff('month', cohort_month, month) as months_since,
        count(*) as cohort_accounts,
        count(*) filter (where active) as active_accounts,
        cast(count(*) filter (where active) / count(*) as decimal(5, 4)) as retention,
        count(*) filter (where was_active and not active) as churned
    from changes
    group by all
)

select * from final
order by realm_id, cohort_month, month
