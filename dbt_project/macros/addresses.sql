{#- A 16-byte address (IPv6 in network order, IPv4 mapped) as text analysts can read:
    a.b.c.d for IPv4, eight uncompressed hex groups for IPv6 (DuckDB's inet extension
    would need a download, which Jet never does at run time). -#}
{% macro ip_text(address) -%}
  case
    when hex({{ address }}) like '00000000000000000000FFFF%' then concat_ws('.',
      ('0x' || substr(hex({{ address }}), 25, 2))::int,
      ('0x' || substr(hex({{ address }}), 27, 2))::int,
      ('0x' || substr(hex({{ address }}), 29, 2))::int,
      ('0x' || substr(hex({{ address }}), 31, 2))::int)
    else lower(concat_ws(':',
      substr(hex({{ address }}), 1, 4), substr(hex({{ address }}), 5, 4),
      substr(hex({{ address }}), 9, 4), substr(hex({{ address }}), 13, 4),
      substr(hex({{ address }}), 17, 4), substr(hex({{ address }}), 21, 4),
      substr(hex({{ address }}), 25, 4), substr(hex({{ address }}), 29, 4)))
  end
{%- endmacro %}

{#- An IPv4 address held as an unsigned integer (RADIUS Framed-IP-Address) as the
    16-byte IPv4-mapped form NetFlow addresses are compared in. -#}
{% macro v4_mapped(ip) -%}
  unhex('00000000000000000000FFFF' || lpad(hex(cast({{ ip }} as uinteger)), 8, '0'))
{%- endmacro %}
