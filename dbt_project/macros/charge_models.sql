{#- How a tier's share of a quantity is found, per tier_mode (billing-rules.md). Each
    takes the quantity and the tier's bounds, all scaled to the same integer unit, and
    returns how much of the quantity this tier prices. Pricing is then one sum over
    tiers of share x price, whatever the mode: a single price is one unbounded tier. -#}

{% macro tier_share_graduated(quantity, lower, upper, is_first) -%}
  greatest(least({{ quantity }}, coalesce({{ upper }}, {{ quantity }})) - {{ lower }}, 0)
{%- endmacro %}

{% macro tier_share_volume(quantity, lower, upper, is_first) -%}
  (case when ({{ is_first }} or {{ quantity }} > {{ lower }})
        and ({{ upper }} is null or {{ quantity }} <= {{ upper }})
   then {{ quantity }} else 0 end)
{%- endmacro %}

{#- The one mapping from tier_mode to its charge model. -#}
{% macro tier_share(quantity, lower, upper, is_first) -%}
  (case tier_mode
  {%- for mode in ['graduated', 'volume'] %}
    when '{{ mode }}' then {{ context['tier_share_' ~ mode](quantity, lower, upper, is_first) }}
  {%- endfor %}
  end)
{%- endmacro %}

{#- A cycle's quantity of a product's metric, exact (HUGEINT), from that cycle's sums:
    what a usage charge rates and what an allowance is measured against. -#}
{% macro metered_quantity(metric, cycles) -%}
    cast(case {{ metric }}
        when 'bytes_in' then {{ cycles }}.bytes_in
        when 'bytes_out' then {{ cycles }}.bytes_out
        when 'bytes_total' then {{ cycles }}.bytes_in + {{ cycles }}.bytes_out
        when 'seconds' then {{ cycles }}.seconds
    end as hugeint)
{%- endmacro %}
