-- RADIUS counts octets from the NAS port's side: Acct-Input-Octets is what the user
-- sent (upload, bytes_out), Acct-Output-Octets what the user received (bytes_in).
-- Quantities are BIGINT, as in every usage source: DuckDB sums BIGINT exactly into a
-- HUGEINT with no per-row widening. A counter past 2^63 is no real counter: the cast
-- fails the run rather than bill it.
with source as (select * from {{ source('raw', 'radius') }}),

renamed as (
    select
        event_time,
        status_type,
        user_name,
        split_part(user_name, '@', 1) as account_id,
        nullif(split_part(user_name, '@', 2), '') as realm_id,
        acct_session_id,
        nas_ip,
        nas_identifier,
        framed_ip,
        cast(output_octets as bigint) as bytes_in,
        cast(input_octets as bigint) as bytes_out,
        cast(session_time as bigint) as session_seconds,
        received_at,
        source_ip,
        packet_id,
        authenticator,
        _batch_id as batch_id,
        _landed_at as landed_at,
        filename as landed_file,
        file_row_number as file_row
    from source
)

select * from renamed
