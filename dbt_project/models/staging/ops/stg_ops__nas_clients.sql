-- The NAS registered to send RADIUS accounting (jet nas add): address, realm, name.
with source as (select * from {{ ops_table('nas_clients') }}),

final as (
    select nas_ip, realm_id, nas_name from source
)

select * from final
