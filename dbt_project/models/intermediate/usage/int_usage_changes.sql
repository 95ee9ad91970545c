-- What may have changed in the usage since each incremental aggregate (int_usage_daily,
-- int_usage_by_cycle: its `consumer`) last counted it, as the first UTC date each
-- change can reach: the aggregate recomputes from the earliest of its rows on
-- (docs/decisions.md, "Incremental rating"). A change reaches:
-- - a batch of upstream CSV rows or flows: the dates of its records;
-- - a batch of RADIUS records: the dates of each record and, for a record of a session,
--   the whole session from its start, since a record that arrives late changes the
--   growth of the records after it and the interval NetFlow attributes to the session;
--   an Accounting-On or -Off ends its NAS's open sessions from its date;
-- - a new as_of: a session times out relative to as_of, so what either run's as_of
--   could time out, from the earlier as_of less the timeout;
-- - anything else the usage depends on (the IP assignments NetFlow attributes by, the
--   session timeout, the project's code): everything, from the first date.
-- One row per aggregate and batch it has not counted, and one per aggregate for the run.
-- An aggregate records what it counted in the transaction that writes its rows (the
-- usage_counted table, macros/changes.sql), so a run that fails or builds only one of
-- them leaves the rest to the next.
{{ config(materialized='table', pre_hook="{{ create_usage_counted() }}") }}
{%- set timeout = var('radius_session_timeout_hours') %}
{%- set counted = adapter.get_relation(this.database, this.schema, 'usage_counted') if execute %}
{%- set code = [] %}
{%- for node in (graph.nodes.values() | sort(attribute='unique_id') if execute else []) %}
  {%- if node.resource_type == 'model' %}{% do code.append(node.checksum.checksum) %}{% endif %}
{%- endfor %}

with consumers as (
    select * from (values ('int_usage_daily'), ('int_usage_by_cycle')) as t (consumer)
),

counted as (
    {%- if counted %}
    select consumer, source, batch_id, as_of, fingerprint, counted_at from {{ counted }}
    {%- else %}
    select null::varchar as consumer, null::varchar as source, null::varchar as batch_id,
        null::date as as_of, null::varchar as fingerprint, null::timestamptz as counted_at
    where false
    {%- endif %}
),

-- the batches every aggregate has counted: no need to look at their records again
counted_by_all as (
    select source, batch_id from counted
    where batch_id is not null
    group by source, batch_id
    having count(distinct consumer) = (select count(*) from consumers)
),

last_run as (
    select consumer, arg_max(as_of, counted_at) as as_of,
        arg_max(fingerprint, counted_at) as fingerprint
    from counted where source = 'run'
    group by consumer
),

this_run as (
    select
        {{ as_of() }} as as_of,
        md5(concat_ws('|',
            '{{ local_md5(code | join(",")) }}',
            '{{ timeout }}',
            (select string_agg(concat_ws(',', account_id, network), ';' order by account_id, network)
             from {{ ref('stg_ops__ip_assignments') }})
        )) as fingerprint
),

radius as (
    select
        'radius' as source,
        records.batch_id,
        least(
            min({{ utc_date('records.event_time') }}),
            min({{ utc_date('sessions.started_at') }})
        ) as changed_from
    from {{ ref('stg_radius__accounting') }} as records
    left join {{ ref('int_radius_sessions') }} as sessions
        on coalesce(records.nas_ip, records.source_ip) = sessions.nas_ip
        and records.acct_session_id = sessions.acct_session_id
        and records.user_name = sessions.user_name
    where records.batch_id not in (select batch_id from counted_by_all where source = 'radius')
    group by records.batch_id
),

netflow as (
    select 'netflow' as source, batch_id, min({{ utc_date('last_ts') }}) as changed_from
    from {{ ref('stg_netflow__flows') }}
    where batch_id not in (select batch_id from counted_by_all where source = 'netflow')
    group by batch_id
),

upstream as (
    select 'upstream_csv' as source, batch_id, min({{ utc_date('ts') }}) as changed_from
    from {{ ref('stg_upstream__usage') }}
    where batch_id not in (select batch_id from counted_by_all where source = 'upstream_csv')
    group by batch_id
),

batches as (
    select consumers.consumer, landed.*
    from (
        select * from radius
        union all
        select * from netflow
        union all
        select * from upstream
    ) as landed
    cross join consumers
    anti join counted
        on counted.consumer = consumers.consumer
        and counted.source = landed.source
        and counted.batch_id = landed.batch_id
),

runs as (
    select
        consumers.consumer,
        'run' as source,
        null::varchar as batch_id,
        case
            when last_run.fingerprint is distinct from this_run.fingerprint
                then date '0001-01-01'
            when last_run.as_of <> this_run.as_of then {{ utc_date(
                utc_midnight('least(last_run.as_of, this_run.as_of)')
                ~ ' - to_hours(' ~ timeout ~ ')') }}
        end as changed_from
    from consumers
    cross join this_run
    left join last_run using (consumer)
),

final as (
    select changes.*, this_run.as_of, this_run.fingerprint
    from (select * from batches union all select * from runs) as changes
    cross join this_run
)

select * from final
