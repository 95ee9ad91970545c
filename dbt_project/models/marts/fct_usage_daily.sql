with daily as (select * from {{ ref('int_usage_daily') }})

select account_id, usage_date, source, bytes_in, bytes_out, seconds, records
from daily
