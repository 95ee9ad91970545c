-- Each billing account's balance at the close of every day on which it has ledger
-- entries, valid until the day before next_change_date: the balance on any day D is the
-- row with balance_date <= D < coalesce(next_change_date, D + 1); an account with no row
-- on or before D owes nothing on D (docs/ledger.md, "The marts").
with entries as (select * from {{ ref('stg_ops__ledger_entries') }}),

daily as (
    select
        account_id,
        realm_id,
        currency,
        entry_date as balance_date,
        count(*) as entries,
        cast(sum(case when amount > 0 then amount else 0 end) as decimal(18, 3)) as debits,
        cast(sum(case when amount < 0 then amount else 0 end) as decimal(18, 3)) as credits,
        cast(sum(amount) as decimal(18, 3)) as movement
    from entries
    group by all
),

running as (
    select
        *,
        cast(sum(movement) over (
            partition by account_id order by balance_date rows unbounded preceding
        ) as decimal(18, 3)) as closing_balance,
        lead(balance_date) over (partition by account_id order by balance_date)
            as next_change_date
    from daily
),

final as (
    select
        account_id,
        realm_id,
        currency,
        balance_date,
        next_change_date,
        next_change_date is null as is_current,
        cast(closing_balance - movement as decimal(18, 3)) as opening_balance,
        debits,
        credits,
        movement,
        closing_balance,
        entries
    from running
)

select * from final
