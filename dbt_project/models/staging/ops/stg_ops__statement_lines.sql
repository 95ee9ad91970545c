-- Booked lines of imported bank statements, whatever became of each (jet/statement_import.py).
with source as (select * from {{ ops_table('statement_lines') }}),

final as (
    select
        line_id,
        statement_id,
        realm_id,
        booked_on,
        cast(amount as decimal(18, 3)) as amount,
        currency,
        status,
        account_id,
        entry_id,
        reference
    from source
)

select * from final
