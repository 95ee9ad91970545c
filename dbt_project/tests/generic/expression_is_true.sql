{#- Rows where `expression` is false fail the test (dbt_utils cannot be fetched offline). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
