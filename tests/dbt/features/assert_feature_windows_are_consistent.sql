-- Windowed counts nest: none is null or negative, 1 day <= 3 days <= 7 days
-- <= 14 days <= 30 days <= 90 days <= since creation (for the windows a signal
-- has), the last 7 days plus the 7 before are the last 14 (or fit in the last
-- 30), and a window of N days holds at most N active UTC days (N + 1 for the
-- scoring snapshot, whose window does not start at a midnight). Returns the
-- snapshot and the first rule it breaks.

{%- set signals = lead_activity_signals() %}
{%- set order = ['1d', '3d', '7d', '14d', '30d', '90d', 'total'] %}

with

features as (

    select * from {{ ref('fct_lead_features') }}

),

checks as (

    select
        lead_id,
        snapshot_at,
        case
            {%- for signal, windows in signals.items() %}
                {%- for window in windows %}
                    when not coalesce({{ signal }}_{{ window }} >= 0, false)
                        then '{{ signal }}_{{ window }} is null or negative'
                {%- endfor %}
                {%- set nested = order | select('in', windows) | list %}
                {%- for window in nested[1:] %}
                    when {{ signal }}_{{ nested[loop.index0] }} > {{ signal }}_{{ window }}
                        then '{{ signal }}_{{ nested[loop.index0] }} > {{ signal }}_{{ window }}'
                {%- endfor %}
                {%- if 'prev_7d' in windows and '14d' in windows %}
                    when {{ signal }}_7d + {{ signal }}_prev_7d <> {{ signal }}_14d
                        then '{{ signal }}_7d + {{ signal }}_prev_7d <> {{ signal }}_14d'
                {%- elif 'prev_7d' in windows and '30d' in windows %}
                    when {{ signal }}_7d + {{ signal }}_prev_7d > {{ signal }}_30d
                        then '{{ signal }}_7d + {{ signal }}_prev_7d > {{ signal }}_30d'
                {%- endif %}
            {%- endfor %}
            {%- for window in signals['active_days'] if window != 'total' %}
                {%- set days = window_bounds(window)[1] %}
                when active_days_{{ window }} > {{ days }} + case when is_scoring_snapshot then 1 else 0 end
                    then 'active_days_{{ window }} > {{ days }} days'
            {%- endfor %}
        end as failure

    from features

),

validation_errors as (

    select * from checks
    where failure is not null

)

select * from validation_errors
