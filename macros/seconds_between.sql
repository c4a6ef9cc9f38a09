{% macro seconds_between(start_timestamp, end_timestamp) %}
    {{ return(adapter.dispatch('seconds_between', 'lead_scoring')(start_timestamp, end_timestamp)) }}
{% endmacro %}

{#- seconds from start to end (fractional); compare seconds for sub-day thresholds -#}
{% macro default__seconds_between(start_timestamp, end_timestamp) -%}
    (epoch({{ end_timestamp }}) - epoch({{ start_timestamp }}))
{%- endmacro %}

{#- unix_timestamp() would drop the fraction of a second: microseconds, as a double like epoch() -#}
{% macro spark__seconds_between(start_timestamp, end_timestamp) -%}
    (cast(unix_micros({{ end_timestamp }}) - unix_micros({{ start_timestamp }}) as double) / 1000000)
{%- endmacro %}
