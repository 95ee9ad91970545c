-- How metered usage is aggregated, apart from how it is priced (int_usage_charges): each
-- usage record counts for its account's subscriptions that can meter (a plan with a
-- usage or duration product), from the plan's usage source or from any when it names
-- none, when its UTC date is in the subscription's
-- [start, end), in the cycle whose arrears window [A, B) holds it (billing-rules.md,
-- "Time"). One row per subscription and bill month, straight from the records: nothing
-- per day, and no product yet (a subscription's metered products share its sums).
{{ config(materialized='table') }}
with meters as (
    select distinct subscription_id, account_id, start_date, end_date, anchor_day, usage_source
    from {{ ref('int_subscription_products') }}
    where product_type in ('usage', 'duration')
),

records as (
    select account_id, source, {{ utc_date('ts') }} as usage_date, bytes_in, bytes_out, seconds
    from {{ ref('int_usage_records') }}
),

matched as (
    -- joined on the account alone, with the subscription's dates and source as a flag
    -- the sums filter on: DuckDB checks a join's non-equality conditions match by match,
    -- far slower than a vectorized filter (measured: 2.5 s against 1.4 s of join work)
    select
        meters.subscription_id,
        {{ boundary_after('meters.anchor_day', 'records.usage_date') }} as bill_mi,
        records.usage_date >= meters.start_date
            and (meters.end_date is null or records.usage_date < meters.end_date)
            and (meters.usage_source is null or records.source = meters.usage_source)
            as counts,
        records.bytes_in,
        records.bytes_out,
        records.seconds
    from records
    inner join meters on records.account_id = meters.account_id
),

final as (
    select
        subscription_id,
        bill_mi,
        sum(bytes_in) filter (counts) as bytes_in,
        sum(bytes_out) filter (counts) as bytes_out,
        sum(seconds) filter (counts) as seconds,
        count(*) filter (counts) as records
    from matched
    group by subscription_id, bill_mi
    having count(*) filter (counts) > 0
)

select * from final
