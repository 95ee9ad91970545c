{#- The first UTC date whose usage may differ from what this incremental aggregate
    last counted (int_usage_changes): it recomputes from that date on and keeps what
    lies before it. Null when nothing changed. -#}
{% macro usage_changed_from() -%}
  (select min(changed_from) from {{ ref('int_usage_changes') }}
   where consumer = '{{ this.identifier }}')
{%- endmacro %}

{#- An incremental aggregate's post-hook, in the transaction that writes its rows: record
    the batches, as_of and fingerprint it has now counted (what int_usage_changes
    compares the next run with). -#}
{% macro count_usage_changes() -%}
  insert into {{ this.schema }}.usage_counted
  select consumer, source, batch_id, as_of, fingerprint, now()
  from {{ ref('int_usage_changes') }}
  where consumer = '{{ this.identifier }}'
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

{#- int_usage_changes' pre-hook: the table the aggregates record what they counted in,
    made before both (they run at once, and two creating it would conflict). -#}
{% macro create_usage_counted() -%}
  create table if not exists {{ this.schema }}.usage_counted (
      consumer varchar, source varchar, batch_id varchar, as_of date, fingerprint varchar,
      counted_at timestamptz
  )
{%- endmacro %}
