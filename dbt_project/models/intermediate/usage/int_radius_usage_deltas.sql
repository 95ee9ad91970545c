-- RADIUS reports running totals per session; usage is the growth between one record and
-- the next, dated at the later record, so a session that spans a cycle boundary bills
-- each part in its own cycle. A Start begins at 0 (it carries no counters); a counter
-- that went backwards (a NAS reset, or a session id reused after the NAS restarted)
-- restarts at 0, so no growth is negative or wraps. A record without a counter adds
-- nothing, and the next one grows from the last counter seen. A record after its session
-- was closed (an Interim-Update after the NAS's Accounting-On) adds only its growth, so
-- nothing is counted twice. Each record keeps its batch, landed file and row, for
-- lineage (fct_invoice_line_sources). A table: sessions, every usage record and a data test read
-- it, and as a view each would sort every RADIUS record again.
{{ config(materialized='table') }}

with accounting as (
    select
        * replace (
            case when status_type = 'Start' then coalesce(bytes_in, 0) else bytes_in end
                as bytes_in,
            case when status_type = 'Start' then coalesce(bytes_out, 0) else bytes_out end
                as bytes_out,
            case when status_type = 'Start' then coalesce(session_seconds, 0)
                else session_seconds end as session_seconds
        )
    from {{ ref('int_radius_records_deduped') }}
    where status_type in ('Start', 'Interim-Update', 'Stop') and account_id <> ''
),

ordered as (
    select
        *,
        lag(bytes_in ignore nulls) over session_order as previous_bytes_in,
        lag(bytes_out ignore nulls) over session_order as previous_bytes_out,
        lag(session_seconds ignore nulls) over session_order as previous_seconds
    from accounting
    window session_order as (
        partition by nas_ip, acct_session_id, user_name
        order by event_time, session_seconds, cast(bytes_in as hugeint) + bytes_out
    )
),

final as (
    select
        nas_ip,
        acct_session_id,
        user_name,
        account_id,
        event_time as ts,
        status_type,
        nas_identifier,
        framed_ip,
        session_seconds,
        case when bytes_in >= coalesce(previous_bytes_in, 0)
            then bytes_in - coalesce(previous_bytes_in, 0)
            else coalesce(bytes_in, 0) end as bytes_in,
        case when bytes_out >= coalesce(previous_bytes_out, 0)
            then bytes_out - coalesce(previous_bytes_out, 0)
            else coalesce(bytes_out, 0) end as bytes_out,
        case when session_seconds >= coalesce(previous_seconds, 0)
            then session_seconds - coalesce(previous_seconds, 0)
            else coalesce(session_seconds, 0) end as seconds,
        landed_at,
        batch_id,
        landed_file,
        file_row
    from ordered
)

select * from final
