{% macro sql_values(values) -%}
    {#- a Python list of strings as a SQL list: ('a', 'b'), quotes escaped -#}
    ({% for value in values %}{{ sql_string(value) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro sql_string(value) -%}
    {#- any value as a SQL string literal, single quotes doubled: o'brien -> 'o''brien' -#}
    '{{ (value | string).replace("'", "''") }}'
{%- endmacro %}
