{#- Read a raw source's landed Parquet; before anything landed, its empty schema file.
    Landing writes `_schema.parquet` beside each source, so staging always has typed columns. -#}
{% macro raw_source(source) -%}
  {%- set root = env_var('JET_LAKE', '../var/lake') ~ '/raw/' ~ source -%}
  {%- set pattern = root ~ '/date=*/*.parquet' -%}
  {%- set found = 0 -%}
  {%- if execute -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
  {%- endif -%}
  {%- if found > 0 -%}
    read_parquet('{{ pattern }}', hive_partitioning = false, union_by_name = true)
  {%- else -%}
    read_parquet('{{ root }}/_schema.parquet')
  {%- endif -%}
{%- endmacro %}

{#- A table of the operational snapshot (written by the Dagster snapshot asset / `jet`). -#}
{% macro ops_table(name) -%}
  read_parquet('{{ env_var('JET_LAKE', '../var/lake') }}/ops/{{ name }}.parquet')
{%- endmacro %}
