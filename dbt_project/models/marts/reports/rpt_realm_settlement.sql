-- Usage for settlement between realms, per month: each realm's customers' usage by the
-- realm whose NAS carried it (RADIUS, by the NAS's registration), summed from the
-- traffic per collector (rpt_traffic). Where the two differ, one realm's network served
-- another's customers: the rows to settle. NetFlow exporters and upstream files belong
-- to no realm: their usage shows with `carried_by` null.
with traffic as (select * from {{ ref('rpt_traffic') }}),

final as (
    select
        month,
        realm_id,
        case when source = 'radius' then nas_realm_id end as carried_by,
        coalesce(source = 'radius' and nas_realm_id <> realm_id, false) as roaming,
        source,
        cast(sum(bytes_in) as bigint) as bytes_in,
        cast(sum(bytes_out) as bigint) as bytes_out,
        cast(sum(bytes_in + bytes_out) / 1e9 as decimal(18, 3)) as gigabytes,
        cast(sum(seconds) as bigint) as seconds,
        cast(sum(records) as bigint) as records
    from traffic
    group by all
)

select * from final
order by month, realm_id, carried_by, source
