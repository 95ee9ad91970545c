-- Every invoice line: issued ones with their invoice number, the rest as drafts that
-- the next issue step for their bill date will take.
with drafted as (select * from {{ ref('int_invoice_lines_drafted') }}),

issued as (select * from {{ ref('stg_ops__issued_lines') }}),

final as (
    select
        drafted.*,
        case when issued.line_key is null then 'draft' else 'issued' end as status,
        issued.invoice_number
    from drafted
    left join issued using (line_key)
)

select * from final
