{% macro sql_values(values) -%}
    {#- a Python list of strings as a SQL list: ('a', 'b') -#}
    ({% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
