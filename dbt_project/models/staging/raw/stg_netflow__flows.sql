-- Sampled exporters report 1 in N flows; bytes and packets are scaled back up here, as
-- BIGINT like every usage quantity (DuckDB sums BIGINT exactly into a HUGEINT). A
-- product past 2^63 (9 EB in one flow) is no real flow: it fails the run, never wraps.
-- Addresses are 16-byte IPv6 (IPv4 mapped), compared as bytes (jet/addresses.py).
-- A flow is known by its file and row (file_key, file_row): the same in every model that
-- reads this view, unlike a row_number() that each reading query would number anew. The
-- file's key is the 128-bit md5 of its path: DuckDB's 64-bit hash() gave two of 92 day
-- files one key under some JET_HOME paths, joining their flows to each other's owners.
with source as (select * from {{ source('raw', 'netflow') }}),

renamed as (
    select
        md5_number(filename) as file_key,
        file_row_number as file_row,
        exporter,
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
        _landed_at as landed_at,
        filename as landed_file
    from source
)

select * from renamed
