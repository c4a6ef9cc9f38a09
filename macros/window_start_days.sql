{% macro window_start_days(windows=none) %}
    {#-
        The offsets in days before snapshot_at at which fct_lead_features looks up a
        running total other than the snapshot's own (macro window_bounds), over the
        given windows or, by default, every window of macro lead_activity_signals.
        Sorted, distinct.
    -#}
    {%- set days = [] %}
    {%- set all_windows = [] %}
    {%- if windows is none %}
        {%- for signal_windows in lead_activity_signals().values() %}
            {%- do all_windows.extend(signal_windows) %}
        {%- endfor %}
    {%- else %}
        {%- do all_windows.extend(windows) %}
    {%- endif %}
    {%- for window in all_windows %}
        {%- for offset in window_bounds(window) if offset %}
            {%- do days.append(offset) %}
        {%- endfor %}
    {%- endfor %}
    {{ return(days | unique | sort | list) }}
{% endmacro %}
