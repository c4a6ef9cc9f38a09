{% macro lead_activity_signal_type(signal) %}
    {#- SQL type of a signal's counts and running totals: integers; seconds on site could pass 2^31 for a very busy lead -#}
    {{ return('bigint' if signal == 'time_on_site_seconds' else 'integer') }}
{% endmacro %}
