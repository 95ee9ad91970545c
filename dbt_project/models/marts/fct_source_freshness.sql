-- Every sender that ever landed usage, how long it has been quiet at this run, and whether
-- that is past its source's thresholds (var `freshness`): a source can be fresh while one
-- NAS or router behind it stopped sending. The source as a whole is `dbt source
-- freshness`'s (jet/freshness.py). A NAS is its NAS-IP-Address, else the requests' source
-- address, as sessions know it; an exporter is its address; rows with neither (generated
-- data) are one sender, 'unknown'.
{%- set seconds = {'minute': 60, 'hour': 3600, 'day': 86400} %}

with radius as (select * from {{ ref('stg_radius__accounting') }}),

netflow as (select * from {{ ref('stg_netflow__flows') }}),

senders as (
    select
        'radius' as source,
        coalesce({{ ip_text(v4_mapped('coalesce(nas_ip, source_ip)')) }}, 'unknown') as sender,
        arg_max(nas_identifier, landed_at) as sender_name,
        max(landed_at) as last_landed_at
    from radius
    group by all
    union all
    select 'netflow', coalesce(exporter, 'unknown'), null, max(landed_at)
    from netflow
    group by all
),

thresholds as (
    select * from (values
        {%- for source, limits in var('freshness').items() %}
        (
            '{{ source }}',
            {{ limits.warn_after.count * seconds[limits.warn_after.period] }},
            {{ limits.error_after.count * seconds[limits.error_after.period] }}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as t (source, warn_after_seconds, error_after_seconds)
),

timed as (
    select
        senders.*,
        cast('{{ run_started_at.isoformat() }}' as timestamptz) as checked_at,
        greatest(0, (epoch_us(checked_at) - epoch_us(last_landed_at)) // 1000000) as silent_seconds,
        thresholds.warn_after_seconds,
        thresholds.error_after_seconds
    from senders
    join thresholds using (source)
),

final as (
    select
        *,
        case
            when silent_seconds > error_after_seconds then 'error'
            when silent_seconds > warn_after_seconds then 'warn'
            else 'pass'
        end as status
    from timed
)

select * from final
