-- Traffic per realm (the account's), month and collector: each NAS (by address, with its
-- registered name and realm as its location), each NetFlow exporter, each upstream
-- provider's file. A NAS that is not registered shows with no name.
with records as (
    select account_id, ts, source, collector, bytes_in, bytes_out, seconds
    from {{ ref('int_usage_records') }}
),

accounts as (select account_id, realm_id from {{ ref('stg_ops__accounts') }}),

nas as (select nas_ip, realm_id as nas_realm_id, nas_name from {{ ref('stg_ops__nas_clients') }}),

final as (
    select
        accounts.realm_id,
        date_trunc('month', timezone('UTC', records.ts))::date as month,
        records.source,
        records.collector,
        nas.nas_name as location,
        nas.nas_realm_id,
        count(distinct records.account_id) as accounts,
        cast(sum(records.bytes_in) as bigint) as bytes_in,
        cast(sum(records.bytes_out) as bigint) as bytes_out,
        cast(sum(records.bytes_in + records.bytes_out) / 1e9 as decimal(18, 3)) as gigabytes,
        cast(sum(records.seconds) as bigint) as seconds,
        count(*) as records
    from records
    inner join accounts using (account_id)
    left join nas on records.source = 'radius' and records.collector = nas.nas_ip
    group by all
)

select * from final
order by realm_id, month, source, collector
