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
