{#- A table of the operational snapshot (written by the Dagster snapshot asset / `jet`). -#}
{% macro ops_table(name) -%}
  read_parquet('{{ env_var('JET_LAKE', '../var/lake') }}/ops/{{ name }}.parquet')
{%- endmacro %}
