-- Every closing balance is the sum of the account's ledger entries up to its day, and
-- opens at the previous row's close (zero on an account's first row).
with balances as (select * from {{ ref('fct_account_balances') }}),

entries as (select * from {{ ref('fct_ledger_entries') }}),

summed as (
    select balances.account_id, balances.balance_date, sum(entries.amount) as entries_sum
    from balances
    inner join entries
        on entries.account_id = balances.account_id
        and entries.entry_date <= balances.balance_date
    group by all
),

checked as (
    select
        balances.*,
        summed.entries_sum,
        lag(balances.closing_balance, 1, 0) over (
            partition by balances.account_id order by balances.balance_date
        ) as previous_close
    from balances
    inner join summed using (account_id, balance_date)
)

select * from checked
where closing_balance != entries_sum or opening_balance != previous_close
