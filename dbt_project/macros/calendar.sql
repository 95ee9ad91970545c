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

{#- The day of the month of d's month that is its boundary: the anchor day, or the
    month's last day when the month lacks it. -#}
{% macro boundary_day(anchor, d) -%}
  least({{ anchor }}, day(last_day({{ d }})))
{%- endmacro %}

{#- Month index of the first boundary on or after date d: d's own month when d is on or
    before that month's boundary, else the next. (Equal to comparing d with
    boundary(anchor, month_index(d)), without building that date.) -#}
{% macro boundary_on_or_after(anchor, d) -%}
  ({{ month_index(d) }} + cast(day({{ d }}) > {{ boundary_day(anchor, d) }} as integer))
{%- endmacro %}

{#- Month index of the first boundary strictly after date d: the bill date whose
    arrears window [A, B) contains d (its bill month). d's own month when d is before
    that month's boundary, else the next. -#}
{% macro boundary_after(anchor, d) -%}
  ({{ month_index(d) }} + cast(day({{ d }}) >= {{ boundary_day(anchor, d) }} as integer))
{%- endmacro %}

{#- The UTC calendar date of a TIMESTAMPTZ, by integer arithmetic on its microseconds
    since the epoch: far cheaper than timezone('UTC', ts) per record. `//` truncates
    toward zero, so the count is taken from 0001-01-01 (62135596800 s before the
    epoch), where it is never negative: exact for every ts from 0001-01-01 on, which
    is every timestamp Jet can hold (counting from 1970 instead would misdate the
    day of any ts before 1970-01-01). -#}
{% macro utc_date(ts) -%}
  (date '0001-01-01' + cast((epoch_us({{ ts }}) + 62135596800000000) // 86400000000 as integer))
{%- endmacro %}
