-- When customers use the network: bytes per realm, month, ISO weekday (1 Monday .. 7
-- Sunday) and hour of the day, in UTC, from every usage record. A record counts in the
-- hour it is dated: a RADIUS record's growth at its event time (an interim update every
-- few minutes keeps that close), a flow at its end, an upstream row at its time.
with records as (
    select account_id, ts, bytes_in, bytes_out from {{ ref('int_usage_records') }}
),

accounts as (select account_id, realm_id from {{ ref('stg_ops__accounts') }}),

final as (
    select
        accounts.realm_id,
        date_trunc('month', timezone('UTC', records.ts))::date as month,
        isodow(timezone('UTC', records.ts)) as weekday,
        hour(timezone('UTC', records.ts)) as hour,
        cast(sum(records.bytes_in + records.bytes_out) as bigint) as bytes_total,
        cast(sum(records.bytes_in + records.bytes_out) / 1e9 as decimal(18, 3)) as gigabytes,
        count(*) as records
    from records
    inner join accounts using (account_id)
    group by all
)

select * from final
order by realm_id, month, weekday, hour
