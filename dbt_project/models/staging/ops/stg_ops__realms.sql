with source as (select * from {{ ops_table('realms') }}),

final as (
    select
        realm_id,
        name as realm_name,
        currency,
        minor_units,
        cast(tax_rate as decimal(9, 6)) as tax_rate,
        cycle,
        cycle_day,
        invoice_prefix
    from source
)

select * from final
