-- What each billing account owes as of the run's last bill date, by age: each debit's
-- open amount (invoices, fees, reversed payments) by days since its date, 0-30, 31-60,
-- 61-90 and over 90; `unapplied_credit` the payments and credit notes not yet set
-- against a debit (negative), and `balance` what the ledger says the account owes.
with entries as (select * from {{ ref('fct_ledger_entries') }}),

aged as (
    select
        realm_id,
        currency,
        account_id as billing_account_id,
        open_amount,
        side,
        {{ as_of() }} - entry_date as age_days
    from entries
    where open_amount <> 0
),

final as (
    select
        realm_id,
        currency,
        billing_account_id,
        {{ as_of() }} as as_of,
        cast(coalesce(sum(open_amount) filter (where side = 'debit' and age_days <= 30), 0)
            as decimal(18, 3)) as days_0_30,
        cast(coalesce(sum(open_amount) filter (where side = 'debit' and age_days between 31 and 60), 0)
            as decimal(18, 3)) as days_31_60,
        cast(coalesce(sum(open_amount) filter (where side = 'debit' and age_days between 61 and 90), 0)
            as decimal(18, 3)) as days_61_90,
        cast(coalesce(sum(open_amount) filter (where side = 'debit' and age_days > 90), 0)
            as decimal(18, 3)) as days_over_90,
        cast(coalesce(sum(open_amount) filter (where side = 'debit'), 0)
            as decimal(18, 3)) as open_debits,
        cast(coalesce(sum(open_amount) filter (where side = 'credit'), 0)
            as decimal(18, 3)) as unapplied_credit,
        cast(sum(open_amount) as decimal(18, 3)) as balance
    from aged
    group by all
)

select * from final
order by realm_id, currency, balance desc, billing_account_id
