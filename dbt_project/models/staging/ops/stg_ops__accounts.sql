with source as (select * from {{ ops_table('accounts') }}),

final as (
    select account_id, realm_id, name as account_name, parent_id, status, prepaid, tax_id
    from source
)

select * from final
