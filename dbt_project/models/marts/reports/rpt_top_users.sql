-- The heaviest users per realm and month: each account's bytes (download + upload) from
-- every source, ranked, the first 100 kept (ties by account id). Bytes are BIGINT: a
-- month of one account fits, and Parquet has no 128-bit integer.
with daily as (select * from {{ ref('fct_usage_daily') }}),

accounts as (select account_id, account_name, realm_id from {{ ref('dim_accounts') }}),

monthly as (
    select
        accounts.realm_id,
        date_trunc('month', daily.usage_date)::date as month,
        daily.account_id,
        any_value(accounts.account_name) as account_name,
        cast(sum(daily.bytes_in) as bigint) as bytes_in,
        cast(sum(daily.bytes_out) as bigint) as bytes_out,
        cast(sum(daily.bytes_in + daily.bytes_out) as bigint) as bytes_total,
        cast(sum(daily.seconds) as bigint) as seconds
    from daily
    inner join accounts using (account_id)
    group by all
),

final as (
    select
        realm_id,
        month,
        row_number() over (
            partition by realm_id, month order by bytes_total desc, account_id
        ) as rank,
        account_id,
        account_name,
        bytes_in,
        bytes_out,
        bytes_total,
        cast(bytes_total / 1e9 as decimal(18, 3)) as gigabytes,
        seconds
    from monthly
    qualify rank <= 100
)

select * from final
order by realm_id, month, rank
