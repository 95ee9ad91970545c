-- Every source's usage in one shape: who, when, how much, and which landed record it is
-- (batch, file, row, and the NAS, exporter or upstream file it came from: lineage,
-- fct_invoice_line_sources). The quantities are BIGINT in every source, so the union
-- keeps them BIGINT (a mix would promote every record to HUGEINT); their sums are
-- HUGEINT and exact. A view: what is costly to work out (RADIUS growth, NetFlow
-- attribution) is already a table, and a table here would copy every usage record on
-- every run; the aggregates read only the columns they need.

with radius as (
    select
        account_id, ts, bytes_in, bytes_out, seconds, landed_at, 'radius' as source,
        batch_id, landed_file, file_row, {{ ip_text(v4_mapped('nas_ip')) }} as collector
    from {{ ref('int_radius_usage_deltas') }}
),

netflow as (
    select
        account_id, ts, bytes_in, bytes_out, seconds, landed_at, 'netflow' as source,
        batch_id, landed_file, file_row, exporter as collector
    from {{ ref('int_netflow_usage_attributed') }}
),

upstream as (
    select
        account_id, ts, bytes_in, bytes_out, seconds, landed_at, 'upstream_csv' as source,
        batch_id, landed_file, file_row, source_file as collector
    from {{ ref('stg_upstream__usage') }}
)

select * from radius
union all
select * from netflow
union all
select * from upstream
