{#- Jet's marts: dbt-duckdb's `external` materialization, writing the model's query
    straight to its Parquet file. dbt-duckdb's own first builds the result as a table in
    the warehouse file and then copies that table out: for 800k invoice lines that is
    ~0.4 s of compressing and writing a table nobody reads (it is dropped at the end).
    Everything else is as there: the file at `location` (default under external_root),
    `options` for the COPY, a view of the same name over the file, the old view kept as
    a backup until the new one is in place. Parquet only, SQL only: all Jet's marts are. -#}
{% materialization external, adapter="duckdb", supported_languages=['sql'] %}

  {%- set location = render(config.get('location', default=external_location(this, config))) -%}
  {%- set rendered_options = render_write_options(config) -%}
  {%- set write_options = adapter.external_write_options(location, rendered_options) -%}
  {%- if rendered_options['format'] | lower != 'parquet' -%}
    {{ exceptions.raise_compiler_error("Jet's external materialization writes Parquet only, not " ~ rendered_options['format']) }}
  {%- endif -%}
  {%- set read_location = adapter.external_read_location(location, rendered_options) -%}
  {%- set parquet_read_options = config.get('parquet_read_options', {'union_by_name': False}) -%}

  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation, suffix='__dbt_int') -%}
  {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
  {%- set backup_relation_type = 'view' if existing_relation is none else existing_relation.type -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
  {%- set grant_config = config.get('grants') -%}

  {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
  {{ drop_relation_if_exists(preexisting_backup_relation) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {#- DuckDB writes a COPY over an existing file to a temporary file first, so a query
      that fails leaves the previous file whole. -#}
  {% call statement('main', language='sql') -%}
    copy (
      {{ compiled_code }}
    ) to '{{ location }}' ({{ write_options }})
  {%- endcall %}

  {% call statement('create_view', language='sql') -%}
    create or replace view {{ intermediate_relation }} as (
      select * from read_parquet('{{ read_location }}'
      {%- for key, value in parquet_read_options.items() -%}
        , {{ key }}=
        {%- if value is string -%}
          '{{ value }}'
        {%- else -%}
          {{ value }}
        {%- endif -%}
      {%- endfor -%}
      )
    );
  {%- endcall %}

  {% if existing_relation is not none %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  {{ adapter.commit() }}

  {{ drop_relation_if_exists(backup_relation) }}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
