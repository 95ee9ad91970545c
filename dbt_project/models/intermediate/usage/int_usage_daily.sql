-- Usage per account, UTC day and source, for reporting (fct_usage_daily). Rating does
-- not read it: it aggregates the records per subscription and cycle
-- (int_usage_by_cycle), since a day per account barely shrinks the records.
{{ config(materialized='table') }}
with records as (select * from {{ ref('int_usage_records') }}),

final as (
    select
        account_id,
        {{ utc_date('ts') }} as usage_date,
        source,
        sum(bytes_in) as bytes_in,
        sum(bytes_out) as bytes_out,
        sum(seconds) as seconds,
        count(*) as records
    from records
    group by all
)

select * from final
