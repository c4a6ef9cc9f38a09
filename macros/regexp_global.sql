{% macro regexp_global() %}
    {{ return(adapter.dispatch('regexp_global', 'lead_scoring')()) }}
{% endmacro %}

{#-
    The trailing argument that makes regexp_replace replace every match:
    regexp_replace(x, '\s+', ' '{{ regexp_global() }}). DuckDB replaces the
    first match unless given 'g'; Spark always replaces every match (its fourth
    argument is a position). Patterns stay plain SQL literals.
-#}
{% macro default__regexp_global() -%}
    , 'g'
{%- endmacro %}

{% macro spark__regexp_global() -%}
{%- endmacro %}
