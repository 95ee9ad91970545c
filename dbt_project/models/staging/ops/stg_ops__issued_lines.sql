with source as (select * from {{ ops_table('issued_lines') }})

select line_key, invoice_number, bill_date from source
