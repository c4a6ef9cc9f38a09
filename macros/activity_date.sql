{% macro activity_date(timestamp_expression) -%}
    {#-
        The UTC day a timestamp counts toward in the daily lead activity: the
        date D with timestamp in (D 00:00, D+1 00:00]. A timestamp at exactly
        midnight counts toward the day that midnight closes, so that summing the
        days up to activity_date(snapshot_at) covers exactly the events at or
        before a snapshot taken at midnight. Portable (dbt cross-database macros).
    -#}
    case
        when {{ timestamp_expression }} = {{ dbt.date_trunc('day', timestamp_expression) }}
            then cast({{ dbt.dateadd('day', -1, timestamp_expression) }} as date)
        else cast({{ timestamp_expression }} as date)
    end
{%- endmacro %}
