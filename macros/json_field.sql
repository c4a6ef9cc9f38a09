{% macro json_field(json_column, path) %}
    {{ return(adapter.dispatch('json_field', 'lead_scoring')(json_column, path)) }}
{% endmacro %}

{#-
    The value at a JSON path ('$.auc') of a text column holding a JSON object,
    as text (null when the path is absent): json_field('metrics_json', '$.auc').
    DuckDB's json_extract_string and Spark's get_json_object read the same
    paths.
-#}
{% macro default__json_field(json_column, path) -%}
    json_extract_string({{ json_column }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_field(json_column, path) -%}
    get_json_object({{ json_column }}, '{{ path }}')
{%- endmacro %}
