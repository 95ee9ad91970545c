-- Every source's usage in one shape: who, when, how much.
{{ config(materialized='view') }}

with radius as (
    select account_id, ts, bytes_in, bytes_out, seconds, landed_at, 'radius' as source
    from {{ ref('int_radius_usage_deltas') }}
),

netflow as (
    select account_id, ts, bytes_in, bytes_out, seconds, landed_at, 'netflow' as source
    from {{ ref('int_netflow_usage_attributed') }}
),

upstream as (
    select account_id, ts, bytes_in, bytes_out, seconds, landed_at, 'upstream_csv' as source
    from {{ ref('stg_upstream__usage') }}
)

select * from radius
union all
select * from netflow
union all
select * from upstream
