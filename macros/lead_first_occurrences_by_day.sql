{% macro lead_first_occurrences_by_day(source, relation, distinct_column) -%}
    {#-
        The signals of one total-only source of macro lead_activity_signal_definitions
        (first_asset_downloads, first_case_study_views, first_channel_touches) per lead
        and UTC activity day: each distinct value of distinct_column of a lead counts
        once, on the day of its first occurrence in relation, so the running total of
        the days is the number of distinct values to date (int_lead_activity_daily).
    -#}
    {%- set definitions = lead_activity_signal_definitions() %}
    select
        {%- for signal in lead_activity_signals() if definitions[signal][0] == source %}
            {{ definitions[signal][1] }} as {{ signal }},
        {%- endfor %}
        lead_id,
        activity_date

    from (
        select
            lead_id,
            {{ distinct_column }},
            {{ activity_date('min(occurred_at)') }} as activity_date
        from {{ relation }}
        group by lead_id, {{ distinct_column }}
    ) as first_occurrences
    group by lead_id, activity_date
{%- endmacro %}
