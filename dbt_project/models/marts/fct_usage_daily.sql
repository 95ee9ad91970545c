-- Parquet has no 128-bit integer (DuckDB would write the HUGEINT sums as floats):
-- a day's bytes of one account fit BIGINT, so they are published exact as BIGINT.
with daily as (select * from {{ ref('int_usage_daily') }})

select
    account_id,
    usage_date,
    source,
    cast(bytes_in as bigint) as bytes_in,
    cast(bytes_out as bigint) as bytes_out,
    cast(seconds as bigint) as seconds,
    records
from daily
