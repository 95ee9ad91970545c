-- Who owns each side of each flow, at the flow's end (`last_ts`, the time it is billed
-- at). A RADIUS session that held the address then is the most specific owner (one
-- address, one customer, that moment); otherwise the narrowest static assignment
-- (longest prefix) that covers it. A flow's destination side is its owner's download,
-- its source side the owner's upload; a side nobody owns has no row here. A table:
-- attributed usage, the unattributed-flows mart and a data test read it, and as a
-- view each would join every flow to the sessions and assignments again.
{{ config(materialized='table') }}
with flows as (
    select file_key, file_row, last_ts, src_addr, dst_addr from {{ ref('stg_netflow__flows') }}
),

endpoints as (
    select file_key, file_row, last_ts, dst_addr as address, 'in' as direction from flows
    union all
    select file_key, file_row, last_ts, src_addr as address, 'out' as direction from flows
),

assignments as (
    select account_id, first_ip, last_ip, prefix_length
    from {{ ref('stg_ops__ip_assignments') }}
),

sessions as (
    select
        account_id,
        {{ v4_mapped('framed_ip') }} as address,
        started_at,
        coalesce(ended_at, timestamptz 'infinity') as ended_at
    from {{ ref('int_radius_sessions') }}
    where framed_ip is not null and account_id <> ''
),

-- Networks of one prefix length never overlap (a network has one owner), so an address
-- is in at most one of each length: the one with the greatest first address at or below
-- it, if it reaches that far. An ASOF join per length finds it by sorting both sides; a
-- join on `address between first_ip and last_ip` compared each address with every
-- network below it (DuckDB's piecewise merge join): 496 s of a 100,000-account run.
lengths as (select distinct prefix_length from assignments),

probes as (
    select endpoints.*, lengths.prefix_length from endpoints cross join lengths
),

candidates as (
    select probes.file_key, probes.file_row, probes.direction, assignments.account_id,
        assignments.prefix_length as specificity
    from probes
    asof inner join assignments
        on probes.prefix_length = assignments.prefix_length
        and probes.address >= assignments.first_ip
    where probes.address <= assignments.last_ip
    union all
    select endpoints.file_key, endpoints.file_row, endpoints.direction, sessions.account_id,
        129 as specificity  -- above any prefix (/128 is 128)
    from endpoints
    inner join sessions
        on endpoints.address = sessions.address
        and endpoints.last_ts >= sessions.started_at
        and endpoints.last_ts < sessions.ended_at
),

final as (
    select file_key, file_row, direction, arg_max(account_id, specificity) as account_id
    from candidates
    group by file_key, file_row, direction
)

select * from final
