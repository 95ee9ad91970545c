{#- The first UTC date whose usage may differ from what the last rating run aggregated
    (int_usage_changes): the incremental usage models recompute from that date on and
    keep what lies before it. Null when nothing changed. -#}
{% macro usage_changed_from() -%}
  (select min(changed_from) from {{ ref('int_usage_changes') }})
{%- endmacro %}

{#- Midnight UTC of a date, as a TIMESTAMPTZ a record's ts compares with (Parquet row
    groups are skipped on it). -#}
{% macro utc_midnight(d) -%}
  to_timestamp(epoch({{ d }}))
{%- endmacro %}

{#- int_usage_by_cycle's pre-hook, in the transaction that inserts the new sums: delete
    the cycles of subscriptions whose meter changed or ended, and every cycle from the
    one holding the first changed day on. -#}
{% macro delete_changed_cycles() -%}
  {%- if is_incremental() %}
  delete from {{ this }} as rated
  where not exists (
      select 1 from {{ ref('int_subscription_products') }} as meters
      where meters.product_type in ('usage', 'duration')
          and meters.subscription_id = rated.subscription_id
          and meters.account_id = rated.account_id
          and meters.anchor_day = rated.anchor_day
          and meters.start_date = rated.start_date
          and meters.end_date is not distinct from rated.end_date
          and meters.usage_source is not distinct from rated.usage_source
  )
  or rated.bill_mi >= {{ boundary_after('rated.anchor_day', usage_changed_from()) }}
  {%- endif %}
{%- endmacro %}
