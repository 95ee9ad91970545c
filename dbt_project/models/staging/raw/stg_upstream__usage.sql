with source as (select * from {{ raw_source('upstream_csv') }}),

renamed as (
    select
        account_id,
        ts,
        cast(bytes_in as hugeint) as bytes_in,
        cast(bytes_out as hugeint) as bytes_out,
        cast(seconds as hugeint) as seconds,
        source_file,
        source_line,
        _batch_id as batch_id,
        _landed_at as landed_at
    from source
)

select * from renamed
