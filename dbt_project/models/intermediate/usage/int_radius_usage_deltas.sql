-- RADIUS reports running totals per session; usage is the growth between one record and
-- the next, dated at the later record, so a session that spans a cycle boundary bills
-- each part in its own cycle. A counter that went backwards (a NAS reset) restarts at 0.

with accounting as (
    select * from {{ ref('stg_radius__accounting') }}
    where status_type in ('Start', 'Interim-Update', 'Stop') and account_id <> ''
),

ordered as (
    select
        *,
        lag(bytes_in) over session_order as previous_bytes_in,
        lag(bytes_out) over session_order as previous_bytes_out,
        lag(session_seconds) over session_order as previous_seconds
    from accounting
    window session_order as (
        partition by nas_ip, acct_session_id, user_name
        order by event_time, session_seconds, cast(bytes_in as hugeint) + bytes_out
    )
),

final as (
    select
        account_id,
        event_time as ts,
        case when bytes_in >= coalesce(previous_bytes_in, 0)
            then bytes_in - coalesce(previous_bytes_in, 0) else bytes_in end as bytes_in,
        case when bytes_out >= coalesce(previous_bytes_out, 0)
            then bytes_out - coalesce(previous_bytes_out, 0) else bytes_out end as bytes_out,
        case when session_seconds >= coalesce(previous_seconds, 0)
            then session_seconds - coalesce(previous_seconds, 0) else session_seconds end as seconds,
        landed_at
    from ordered
)

select * from final
