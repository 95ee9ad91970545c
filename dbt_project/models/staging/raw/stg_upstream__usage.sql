-- Quantities are BIGINT, as in every usage source: DuckDB sums BIGINT exactly into a
-- HUGEINT with no per-row widening. A value past 2^63 fails the run rather than bill it.
with source as (select * from {{ source('raw', 'upstream_csv') }}),

renamed as (
    select
        account_id,
        ts,
        cast(bytes_in as bigint) as bytes_in,
        cast(bytes_out as bigint) as bytes_out,
        cast(seconds as bigint) as seconds,
        source_file,
        source_line,
        _batch_id as batch_id,
        _landed_at as landed_at,
        filename as landed_file,
        file_row_number as file_row
    from source
)

select * from renamed
