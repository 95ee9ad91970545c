-- A request that went unanswered is resent as it was: same source, Identifier and
-- Request Authenticator (an MD5 over the whole packet), so the same record. The server
-- lands a resend again when it crashed between landing and answering; only the copy
-- landed first is kept, as a later copy's receipt-based event_time would misplace it
-- in its session. Rows without an authenticator (generated or older data) cannot be
-- told apart and are all kept.

with records as (select * from {{ ref('stg_radius__accounting') }}),

signed as (
    select *
    from records
    where authenticator is not null
    qualify row_number() over (
        partition by source_ip, packet_id, authenticator
        order by landed_at, received_at, batch_id
    ) = 1
),

unsigned as (
    select * from records where authenticator is null
),

deduped as (
    select * from signed
    union all
    select * from unsigned
),

-- a NAS that sends no NAS-IP-Address is known by the packets' source, as
-- ingest/radius/open_sessions.py knows it
final as (
    select * replace (coalesce(nas_ip, source_ip) as nas_ip) from deduped
)

select * from final
