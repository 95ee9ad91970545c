-- A flow is the customer's download when its destination is the customer's address and
-- upload when its source is; the narrowest assignment (longest prefix) wins.

with flows as (select * from {{ ref('stg_netflow__flows') }}),

assignments as (
    select account_id, first_ip, last_ip, last_ip - first_ip as width
    from {{ ref('stg_ops__ip_assignments') }}
),

downloads as (
    select
        any_value(flows.last_ts) as ts,
        arg_min(assignments.account_id, assignments.width) as account_id,
        any_value(flows.bytes) as bytes,
        any_value(flows.landed_at) as landed_at
    from flows
    inner join assignments
        on flows.dst_addr between assignments.first_ip and assignments.last_ip
    group by flows.flow_row
),

uploads as (
    select
        any_value(flows.last_ts) as ts,
        arg_min(assignments.account_id, assignments.width) as account_id,
        any_value(flows.bytes) as bytes,
        any_value(flows.landed_at) as landed_at
    from flows
    inner join assignments
        on flows.src_addr between assignments.first_ip and assignments.last_ip
    group by flows.flow_row
),

final as (
    select
        account_id, ts, bytes as bytes_in, cast(0 as bigint) as bytes_out,
        cast(0 as bigint) as seconds, landed_at
    from downloads
    union all
    select
        account_id, ts, cast(0 as bigint) as bytes_in, bytes as bytes_out,
        cast(0 as bigint) as seconds, landed_at
    from uploads
)

select * from final
