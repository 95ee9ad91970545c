{#- Cycle arithmetic. Every account has one cycle boundary per month, on its anchor day
    (clamped to the month's last day), so a boundary is named by its month index
    `year * 12 + month - 1` and everything below is arithmetic, never a join. -#}

{% macro month_index(d) -%}
  (year({{ d }}) * 12 + month({{ d }}) - 1)
{%- endmacro %}

{% macro boundary(anchor, mi) -%}
  make_date(
    ({{ mi }}) // 12, ({{ mi }}) % 12 + 1,
    least({{ anchor }}, day(last_day(make_date(({{ mi }}) // 12, ({{ mi }}) % 12 + 1, 1))))
  )
{%- endmacro %}

{#- Month index of the first boundary on or after date d. -#}
{% macro boundary_on_or_after(anchor, d) -%}
  (case when {{ d }} <= {{ boundary(anchor, month_index(d)) }}
        then {{ month_index(d) }} else {{ month_index(d) }} + 1 end)
{%- endmacro %}

{#- Month index of the first boundary strictly after date d: the bill date whose
    arrears window [A, B) contains d. -#}
{% macro boundary_after(anchor, d) -%}
  (case when {{ d }} < {{ boundary(anchor, month_index(d)) }}
        then {{ month_index(d) }} else {{ month_index(d) }} + 1 end)
{%- endmacro %}
