with source as (select * from {{ ops_table('ip_assignments') }})

select account_id, network, first_ip, last_ip, prefix_length from source
