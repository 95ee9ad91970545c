-- One row per RADIUS session: a user's Acct-Session-Id on one NAS. It ends at the first
-- of: its Stop; an Accounting-On (the NAS restarted) or Accounting-Off (it is shutting
-- down) from its NAS after it started, as FreeRADIUS closes such sessions; or, with
-- neither, at its last record once nothing was heard of it for
-- radius_session_timeout_hours before as_of. A NAS event that came after the session
-- had already gone quiet that long closes nothing: it timed out first. Totals are the
-- sum of its records' growth (int_radius_usage_deltas), what billing counted, records
-- after its end included. A table: NetFlow attribution and the sessions mart read it,
-- and as a view each would group every record again.
{{ config(materialized='table') }}
{%- set timeout = "to_hours(" ~ var('radius_session_timeout_hours') ~ ")" %}

with records as (select * from {{ ref('int_radius_usage_deltas') }}),

nas_events as (
    select nas_ip, event_time, status_type
    from {{ ref('int_radius_records_deduped') }}
    where status_type in ('Accounting-On', 'Accounting-Off')
),

accounts as (select account_id, realm_id from {{ ref('stg_ops__accounts') }}),

sessions as (
    select
        nas_ip,
        acct_session_id,
        user_name,
        any_value(account_id) as account_id,
        arg_min(nas_identifier, ts) filter (where nas_identifier is not null) as nas_identifier,
        arg_min(framed_ip, ts) filter (where framed_ip is not null) as framed_ip,
        -- a lost Start is recovered from the first record's Acct-Session-Time
        min(ts - to_seconds(coalesce(session_seconds, 0))) as started_at,
        max(ts) as last_seen_at,
        min(ts) filter (where status_type = 'Stop') as stopped_at,
        sum(bytes_in) as bytes_in,
        sum(bytes_out) as bytes_out,
        sum(seconds) as seconds,
        count(*) as records
    from records
    group by nas_ip, acct_session_id, user_name
),

-- the first Accounting-On or -Off of the session's NAS after the session started
with_nas_event as (
    select
        sessions.*,
        nas_events.event_time as nas_event_at,
        nas_events.status_type as nas_event
    from sessions
    asof left join nas_events
        on sessions.nas_ip = nas_events.nas_ip
        and sessions.started_at < nas_events.event_time
),

closed as (
    select
        *,
        case
            when stopped_at <= coalesce(nas_event_at, stopped_at) then 'stop'
            when nas_event_at <= last_seen_at + {{ timeout }}
                then case nas_event when 'Accounting-On' then 'nas_reboot' else 'nas_off' end
            when last_seen_at < to_timestamp(epoch({{ as_of() }})) - {{ timeout }} then 'timeout'
        end as end_reason
    from with_nas_event
),

final as (
    select
        closed.user_name,
        closed.account_id,
        accounts.realm_id,
        closed.nas_ip,
        closed.nas_identifier,
        closed.acct_session_id,
        closed.framed_ip,
        closed.started_at,
        case
            when closed.end_reason = 'stop' then closed.stopped_at
            when closed.end_reason = 'timeout' then closed.last_seen_at
            when closed.end_reason in ('nas_reboot', 'nas_off') then closed.nas_event_at
        end as ended_at,
        closed.end_reason,
        closed.last_seen_at,
        closed.bytes_in,
        closed.bytes_out,
        closed.seconds,
        closed.records
    from closed
    left join accounts on closed.account_id = accounts.account_id
)

select * from final
