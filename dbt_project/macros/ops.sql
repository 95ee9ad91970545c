{#- A table of the operational snapshot (written by the Dagster snapshot asset / `jet`). -#}
{% macro ops_table(name) -%}
  read_parquet('{{ env_var('JET_LAKE', '../var/lake') }}/ops/{{ name }}.parquet')
{%- endmacro %}

{#- The last bill date a run rates, as a SQL date literal, read when the model runs from
    the one-row table the run writes next to the snapshot (jet.warehouse.write_as_of).
    Not a dbt var: a var that changes every run makes dbt parse the whole project again.
    Unit tests give it with `overrides: macros: {as_of: "date '...'"}`. -#}
{% macro as_of() -%}
  {%- if execute -%}
    {%- set day = run_query("select as_of from " ~ ops_table('as_of')).columns[0].values()[0] -%}
    date '{{ day.strftime('%Y-%m-%d') }}'
  {%- else -%}
    current_date
  {%- endif -%}
{%- endmacro %}
