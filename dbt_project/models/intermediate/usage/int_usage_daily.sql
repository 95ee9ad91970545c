-- Usage per account, UTC day and source, for reporting (fct_usage_daily). Rating does
-- not read it: it aggregates the records per subscription and cycle
-- (int_usage_by_cycle), since a day per account barely shrinks the records.
-- Incremental: a run replaces the days from the first one whose usage may have changed
-- (int_usage_changes) and keeps those before it, the delete and the insert in one
-- transaction.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where usage_date >= {{ usage_changed_from() }}{% endif %}",
    post_hook="{{ count_usage_changes() }}",
) }}
-- depends_on: {{ ref('int_usage_changes') }}
with records as (
    select * from {{ ref('int_usage_records') }}
    {%- if is_incremental() %}
    where ts >= {{ utc_midnight(usage_changed_from()) }}
    {%- endif %}
),

final as (
    select
        account_id,
        {{ utc_date('ts') }} as usage_date,
        source,
        sum(bytes_in) as bytes_in,
        sum(bytes_out) as bytes_out,
        sum(seconds) as seconds,
        count(*) as records
    from records
    group by all
)

select * from final
