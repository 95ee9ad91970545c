-- Subscriptions start and end on dates and cycles turn on dates, so one row per
-- account, day and source carries everything rating needs.
with records as (select * from {{ ref('int_usage_records') }}),

final as (
    select
        account_id,
        cast(timezone('UTC', ts) as date) as usage_date,
        source,
        sum(bytes_in) as bytes_in,
        sum(bytes_out) as bytes_out,
        sum(seconds) as seconds,
        count(*) as records
    from records
    group by all
)

select * from final
