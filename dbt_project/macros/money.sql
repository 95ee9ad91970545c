{#- Exact money: amounts are integer numerators over integer denominators until the one
    rounding the rules allow, half away from zero, to the currency's minor unit.
    (DuckDB turns DECIMAL / DECIMAL into DOUBLE, so nothing here divides decimals.) -#}

{#- n / d rounded half away from zero; n and d integers, d > 0. -#}
{% macro round_div(n, d) -%}
  (sign({{ n }}) * ((abs({{ n }}) * 2 + ({{ d }})) // (2 * ({{ d }}))))
{%- endmacro %}

{#- A decimal with at most 6 places as an exact integer count of millionths. -#}
{% macro micros(x) -%}
  cast(({{ x }}) * 1000000 as hugeint)
{%- endmacro %}

{#- Minor units (cents) to DECIMAL(18, 3), exact for currencies of 0, 2 or 3 places. -#}
{% macro minor_to_decimal(minor, places) -%}
  cast(cast(({{ minor }}) * (case {{ places }} when 0 then 1000 when 1 then 100 when 2 then 10 else 1 end) as decimal(38, 0)) * 0.001 as decimal(18, 3))
{%- endmacro %}

{#- 10 ^ places as an integer. -#}
{% macro pow10(places) -%}
  cast(pow(10, {{ places }}) as hugeint)
{%- endmacro %}

{#- price x num / den in minor units, rounded once: pro-rata by whole days. -#}
{% macro prorated_minor(price, num, den, places) -%}
  {{ round_div(micros(price) ~ ' * (' ~ num ~ ') * ' ~ pow10(places), '(' ~ den ~ ') * 1000000') }}
{%- endmacro %}

{#- The tax on `taxable` minor units at `rate`, in minor units, half away from zero: an
    invoice's tax, and what a prepaid deduction adds for it. -#}
{% macro tax_minor(taxable, rate) -%}
  cast({{ round_div('cast(' ~ taxable ~ ' as hugeint) * ' ~ micros(rate), '1000000') }} as bigint)
{%- endmacro %}
