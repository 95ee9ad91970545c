-- Each ledger entry with how much of it is settled: of a debit (amount > 0) what credits
-- paid of it, of a credit (amount < 0) what of it paid debits. Negative allocations (a
-- refund or reversal reopening what its payment paid) count against the earlier ones.
with entries as (select * from {{ ref('stg_ops__ledger_entries') }}),

allocations as (select * from {{ ref('stg_ops__allocations') }}),

paid as (
    select debit_entry_id as entry_id, sum(amount) as amount
    from allocations
    group by all
),

used as (
    select credit_entry_id as entry_id, sum(amount) as amount
    from allocations
    group by all
),

final as (
    select
        entries.*,
        case when entries.amount >= 0 then 'debit' else 'credit' end as side,
        cast(coalesce(case when entries.amount >= 0 then paid.amount else used.amount end, 0)
            as decimal(18, 3)) as allocated
    from entries
    left join paid on entries.amount >= 0 and paid.entry_id = entries.entry_id
    left join used on entries.amount < 0 and used.entry_id = entries.entry_id
)

select
    *,
    cast(amount - sign(amount) * allocated as decimal(18, 3)) as open_amount
from final
