-- Traffic that matches no account's addresses: shown, never silently dropped.
{{ config(materialized='table') }}
with flows as (select * from {{ ref('stg_netflow__flows') }}),

assignments as (select first_ip, last_ip from {{ ref('stg_ops__ip_assignments') }}),

final as (
    select
        {{ utc_date('flows.last_ts') }} as flow_date,
        flows.exporter_ip,
        flows.src_addr,
        flows.dst_addr,
        sum(flows.bytes) as bytes,
        sum(flows.packets) as packets,
        count(*) as flows
    from flows
    where not exists (
        select 1 from assignments
        where flows.dst_addr between assignments.first_ip and assignments.last_ip
           or flows.src_addr between assignments.first_ip and assignments.last_ip
    )
    group by all
)

select * from final
