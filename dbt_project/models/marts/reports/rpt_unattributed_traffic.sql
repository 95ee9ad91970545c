-- Traffic no account owns, per month and exporter (fct_unattributed_flows): what no
-- session held and no assignment covers, so nobody is billed for it. Growth here is a
-- missing IP assignment, a customer not yet in Jet, or a leak.
with flows as (select * from {{ ref('fct_unattributed_flows') }}),

final as (
    select
        date_trunc('month', flow_date)::date as month,
        exporter,
        count(distinct (src_address, dst_address)) as address_pairs,
        cast(sum(flows) as bigint) as flows,
        cast(sum(packets) as bigint) as packets,
        cast(sum(bytes) as bigint) as bytes,
        cast(sum(bytes) / 1e9 as decimal(18, 3)) as gigabytes
    from flows
    group by all
)

select * from final
order by month, exporter
