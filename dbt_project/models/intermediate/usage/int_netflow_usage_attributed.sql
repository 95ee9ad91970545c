-- A flow is the customer's download when its destination is the customer's address and
-- upload when its source is; the narrowest assignment (longest prefix) wins.

with flows as (select * from {{ ref('stg_netflow__flows') }}),

assignments as (
    select account_id, first_ip, last_ip, last_ip - first_ip as width
    from {{ ref('stg_ops__ip_assignments') }}
),

endpoints as (
    select flow_row, last_ts, bytes, landed_at, dst_addr as address, 'in' as direction
    from flows
    union all
    select flow_row, last_ts, bytes, landed_at, src_addr as address, 'out' as direction
    from flows
),

attributed as (
    select
        any_value(endpoints.last_ts) as ts,
        arg_min(assignments.account_id, assignments.width) as account_id,
        any_value(endpoints.bytes) as bytes,
        any_value(endpoints.landed_at) as landed_at,
        endpoints.direction
    from endpoints
    inner join assignments
        on endpoints.address between assignments.first_ip and assignments.last_ip
    group by endpoints.flow_row, endpoints.direction
),

final as (
    select
        account_id,
        ts,
        case when direction = 'in' then bytes else cast(0 as bigint) end as bytes_in,
        case when direction = 'out' then bytes else cast(0 as bigint) end as bytes_out,
        cast(0 as bigint) as seconds,
        landed_at
    from attributed
)

select * from final
