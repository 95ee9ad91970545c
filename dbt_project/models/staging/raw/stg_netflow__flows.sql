-- Sampled exporters report 1 in N flows; bytes and packets are scaled back up here, as
-- BIGINT like every usage quantity (DuckDB sums BIGINT exactly into a HUGEINT). A
-- product past 2^63 (9 EB in one flow) is no real flow: it fails the run, never wraps.
with source as (select * from {{ raw_source('netflow') }}),

renamed as (
    select
        row_number() over () as flow_row,
        exporter_ip,
        first_ts,
        last_ts,
        src_addr,
        dst_addr,
        src_port,
        dst_port,
        protocol,
        cast(packets as bigint) * greatest(sampling_interval, 1) as packets,
        cast(bytes as bigint) * greatest(sampling_interval, 1) as bytes,
        _batch_id as batch_id,
        _landed_at as landed_at
    from source
)

select * from renamed
