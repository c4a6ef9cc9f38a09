{% macro regex_matches(expression, pattern) %}
    {{ return(adapter.dispatch('regex_matches', 'lead_scoring')(expression, pattern)) }}
{% endmacro %}

{#- true when the regular expression pattern matches anywhere in expression -#}
{% macro default__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ pattern }})
{%- endmacro %}
