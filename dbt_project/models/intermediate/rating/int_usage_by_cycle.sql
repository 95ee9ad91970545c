-- How metered usage is aggregated, apart from how it is priced (int_usage_charges): each
-- usage record counts for its account's subscriptions that can meter (a plan with a
-- usage or duration product), from the plan's usage source or from any when it names
-- none, when its UTC date is in the subscription's [start, end), in the cycle whose
-- arrears window [A, B) holds it (billing-rules.md, "Time"). One row per subscription
-- and bill month, straight from the records (not from int_usage_daily: at a record or
-- two per account and day, a day barely shrinks them and the second grouping doubled
-- the cost), with the meter it was summed under; no product yet (a subscription's
-- metered products share its sums).
--
-- Incremental (docs/decisions.md, "Incremental rating"): a run deletes the cycles of
-- subscriptions whose meter changed or ended and every cycle from the one holding the
-- first changed day (int_usage_changes) on, then sums again what it deleted: every cycle
-- of a subscription left with none, the rest from that cycle on.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_cycles() }}",
    post_hook="{{ count_usage_changes() }}",
) }}
-- depends_on: {{ ref('int_usage_changes') }}
with meters as (
    select distinct subscription_id, account_id, anchor_day, start_date, end_date, usage_source
    from {{ ref('int_subscription_products') }}
    where product_type in ('usage', 'duration')
),

-- each meter and the first bill month to sum: all of them for a full build and for a
-- subscription with no cycles left, else from the cycle of the first changed day
scope as (
    {%- if is_incremental() %}
    select
        meters.*,
        case when rated.subscription_id is null then 0
            else {{ boundary_after('meters.anchor_day', usage_changed_from()) }} end as from_mi
    from meters
    left join (select distinct subscription_id from {{ this }}) as rated using (subscription_id)
    {%- else %}
    select meters.*, 0 as from_mi from meters
    {%- endif %}
),

-- the records of the cycles to sum: from the earliest start of a subscription's first
-- cycle to sum (in a realm billed on the 1st, the first of the changed day's month),
-- and every record of an account that has a subscription to sum whole; two scans, so
-- that the first skips older row groups
{%- set since -%}
  coalesce(
      (select min({{ boundary('anchor_day', 'from_mi - 1') }}) from scope where from_mi > 0),
      date '9999-12-31'
  )
{%- endset %}
records as (
    select account_id, source, {{ utc_date('ts') }} as usage_date, bytes_in, bytes_out, seconds
    from {{ ref('int_usage_records') }}
    {%- if is_incremental() %}
    where ts >= {{ utc_midnight(since) }}
    union all
    select account_id, source, {{ utc_date('ts') }} as usage_date, bytes_in, bytes_out, seconds
    from {{ ref('int_usage_records') }}
    where ts < {{ utc_midnight(since) }}
        and account_id in (select account_id from scope where from_mi = 0)
    {%- endif %}
),

matched as (
    -- joined on the account alone, with the subscription's dates and source as a flag
    -- the sums filter on: DuckDB checks a join's non-equality conditions match by match,
    -- far slower than a vectorized filter
    select
        scope.subscription_id,
        scope.account_id,
        scope.anchor_day,
        scope.start_date,
        scope.end_date,
        scope.usage_source,
        {{ boundary_after('scope.anchor_day', 'records.usage_date') }} as bill_mi,
        records.usage_date >= scope.start_date
            and (scope.end_date is null or records.usage_date < scope.end_date)
            and (scope.usage_source is null or records.source = scope.usage_source)
            and {{ boundary_after('scope.anchor_day', 'records.usage_date') }} >= scope.from_mi
            as counts,
        records.bytes_in,
        records.bytes_out,
        records.seconds
    from records
    inner join scope on records.account_id = scope.account_id
    where scope.from_mi is not null
),

final as (
    select
        subscription_id,
        bill_mi,
        sum(bytes_in) filter (counts) as bytes_in,
        sum(bytes_out) filter (counts) as bytes_out,
        sum(seconds) filter (counts) as seconds,
        count(*) filter (counts) as records,
        -- the meter, one per subscription: carried, not grouped on
        any_value(account_id) as account_id,
        any_value(anchor_day) as anchor_day,
        any_value(start_date) as start_date,
        any_value(end_date) as end_date,
        any_value(usage_source) as usage_source
    from matched
    group by subscription_id, bill_mi
    having count(*) filter (counts) > 0
)

select * from final
