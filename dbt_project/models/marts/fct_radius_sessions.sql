-- Parquet has no 128-bit integer (DuckDB would write the HUGEINT sums as floats): one
-- session's bytes fit BIGINT, so they are published exact as BIGINT.
with sessions as (select * from {{ ref('int_radius_sessions') }})

select
    * replace (
        cast(bytes_in as bigint) as bytes_in,
        cast(bytes_out as bigint) as bytes_out,
        cast(seconds as bigint) as seconds
    )
from sessions
