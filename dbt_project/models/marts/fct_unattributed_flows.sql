-- Traffic whose sides no account owns (no session held the address, no assignment
-- covers it), per day, exporter and address pair: shown, never silently dropped (a
-- missing assignment, a new customer, or a leak).
with flows as (select * from {{ ref('stg_netflow__flows') }}),

owners as (select distinct file_key, file_row from {{ ref('int_netflow_endpoint_owners') }}),

unowned as (select flows.* from flows anti join owners using (file_key, file_row)),

final as (
    select
        {{ utc_date('last_ts') }} as flow_date,
        exporter,
        {{ ip_text('src_addr') }} as src_address,
        {{ ip_text('dst_addr') }} as dst_address,
        cast(sum(bytes) as bigint) as bytes,  -- Parquet has no HUGEINT: exact, or the run fails
        cast(sum(packets) as bigint) as packets,
        count(*) as flows
    from unowned
    group by all
)

select * from final
