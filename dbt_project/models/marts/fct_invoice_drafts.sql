-- What each billing account would be invoiced at each bill date from the lines not yet
-- issued: tax per invoice on the rounded taxable lines, half away from zero.
with lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where status = 'draft'
),

{{ invoice_totals() }}
