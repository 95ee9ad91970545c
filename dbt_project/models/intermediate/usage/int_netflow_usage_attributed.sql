-- Flows as usage of the accounts that own their sides (int_netflow_endpoint_owners):
-- traffic to the customer is download, from the customer upload. A table: the rating
-- aggregate and the daily report both read it, through int_usage_records; each flow
-- keeps its batch, landed file and row, for lineage (fct_invoice_line_sources).
{{ config(materialized='table') }}
with flows as (select * from {{ ref('stg_netflow__flows') }}),

owners as (select * from {{ ref('int_netflow_endpoint_owners') }}),

final as (
    select
        owners.account_id,
        flows.last_ts as ts,
        case when owners.direction = 'in' then flows.bytes else cast(0 as bigint) end as bytes_in,
        case when owners.direction = 'out' then flows.bytes else cast(0 as bigint) end as bytes_out,
        cast(0 as bigint) as seconds,
        flows.landed_at,
        flows.batch_id,
        flows.landed_file,
        flows.file_row,
        flows.exporter
    from owners
    inner join flows using (file_key, file_row)
)

select * from final
