{% macro window_bounds(window) %}
    {#-
        A window of macro lead_activity_signals as the offsets of its two ends, in
        days before snapshot_at: (end, start), the window being (snapshot_at - start
        days, snapshot_at - end days]. 'Nd' = (0, N), 'prev_7d' = (7, 14), 'total' =
        (0, none): since the lead was created.
    -#}
    {%- if window == 'total' %}
        {{ return((0, none)) }}
    {%- elif window == 'prev_7d' %}
        {{ return((7, 14)) }}
    {%- elif window[-1:] == 'd' and (window[:-1] | int(0)) > 0 %}
        {{ return((0, window[:-1] | int)) }}
    {%- else %}
        {{ exceptions.raise_compiler_error("window_bounds: unknown window " ~ window) }}
    {%- endif %}
{% endmacro %}
