-- Issued invoices as the operational store holds them (facts, never recomputed).
select * from {{ ref('stg_ops__invoices') }}
