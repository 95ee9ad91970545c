-- Money in per realm, currency, month and method, and its reconciliation to the bank:
-- the payments recorded (ledger payments, less refunds and reversals), and of the
-- imported bank-statement lines what became payments, returns, what waits for a person
-- (`unmatched`) and what was ignored. `bank_paid` equals the payments recorded from
-- statements, so `unreconciled` (payments by bank transfer not from a statement line)
-- is what a bookkeeper checks by hand.
with entries as (
    select
        realm_id, currency, date_trunc('month', entry_date)::date as month,
        coalesce(method, '(none)') as method, kind, amount, entry_id
    from {{ ref('fct_ledger_entries') }}
    where kind in ('payment', 'refund', 'reversal')
),

statements as (
    select
        realm_id, currency, date_trunc('month', booked_on)::date as month, status, amount,
        entry_id
    from {{ ref('stg_ops__statement_lines') }}
),

from_statements as (select entry_id from statements where status = 'paid'),

ledger as (
    select
        realm_id, currency, month, method,
        count(*) filter (where kind = 'payment') as payments,
        -sum(amount) filter (where kind = 'payment') as paid,
        sum(amount) filter (where kind in ('refund', 'reversal')) as taken_back,
        -sum(amount) filter (
            where kind = 'payment' and method = 'bank'
            and entry_id not in (select entry_id from from_statements)
        ) as unreconciled
    from entries
    group by all
),

bank as (
    select
        realm_id, currency, month, 'bank' as method,
        sum(amount) filter (where status = 'paid') as bank_paid,
        sum(amount) filter (where status = 'returned') as bank_returned,
        count(*) filter (where status = 'unmatched') as bank_unmatched_lines,
        sum(amount) filter (where status = 'unmatched') as bank_unmatched,
        sum(amount) filter (where status = 'ignored') as bank_ignored
    from statements
    group by all
),

final as (
    select
        realm_id, currency, month, method,
        coalesce(payments, 0) as payments,
        cast(coalesce(paid, 0) as decimal(18, 3)) as paid,
        cast(coalesce(taken_back, 0) as decimal(18, 3)) as taken_back,
        cast(coalesce(bank_paid, 0) as decimal(18, 3)) as bank_paid,
        cast(coalesce(bank_returned, 0) as decimal(18, 3)) as bank_returned,
        coalesce(bank_unmatched_lines, 0) as bank_unmatched_lines,
        cast(coalesce(bank_unmatched, 0) as decimal(18, 3)) as bank_unmatched,
        cast(coalesce(bank_ignored, 0) as decimal(18, 3)) as bank_ignored,
        cast(coalesce(unreconciled, 0) as decimal(18, 3)) as unreconciled
    from ledger
    full outer join bank using (realm_id, currency, month, method)
)

select * from final
order by realm_id, currency, month, method
