-- The timing features agree with the windows they summarise. Recency: a count
-- of the same events over the last N days (macro lead_activity_recencies) is
-- > 0 exactly when hours_since_last_<kind> < 24 N (the windows are
-- (snapshot_at - N days, snapshot_at]); hours are null exactly when the total
-- is 0. Bursts: max_burst_engaged_events_3d is at least the last 3 days and at
-- most every engaged event; days_since_max_burst is null exactly when it is 0,
-- and the burst ended no later than the last engaged event. Baselines: null
-- exactly for leads younger than 14 days. Returns the snapshot and the first
-- rule it breaks.

{%- set signals = lead_activity_signals() %}
{%- set recencies = lead_activity_recencies() %}

with

features as (

    select * from {{ ref('fct_lead_features') }}

),

checks as (

    select
        lead_id,
        snapshot_at,
        case
            {%- for name, recency in recencies.items() if recency.signal %}
                {%- for window in signals[recency.signal] %}
                    {%- set days = window_bounds(window)[1] %}
                    {%- if window == 'total' %}
                        when ({{ recency.signal }}_total > 0) <> (hours_since_last_{{ name }} is not null)
                            then '{{ recency.signal }}_total > 0 but no hours_since_last_{{ name }}, or the reverse'
                    {%- elif window_bounds(window)[0] == 0 %}
                        when
                            ({{ recency.signal }}_{{ window }} > 0)
                            <> coalesce(hours_since_last_{{ name }} < {{ 24 * days }}, false)
                            then '{{ recency.signal }}_{{ window }} > 0 disagrees with hours_since_last_{{ name }}'
                    {%- endif %}
                {%- endfor %}
            {%- endfor %}
            when hours_since_last_high_intent_event > hours_since_last_demo_request
                then 'a demo request more recent than the last high-intent event'
            when hours_since_last_high_intent_event > hours_since_last_high_intent_form
                then 'a high-intent form more recent than the last high-intent event'
            when hours_since_last_high_intent_event > hours_since_last_pricing_view
                then 'a pricing view more recent than the last high-intent event'
            when hours_since_last_high_intent_event > hours_since_last_chat
                then 'a chat more recent than the last high-intent event'
            when max_burst_engaged_events_3d < engaged_events_3d
                then 'max_burst_engaged_events_3d < engaged_events_3d'
            when max_burst_engaged_events_3d > engaged_events_total
                then 'max_burst_engaged_events_3d > engaged_events_total'
            when (max_burst_engaged_events_3d = 0) <> (days_since_max_burst is null)
                then 'days_since_max_burst null differs from no burst'
            when days_since_max_burst * 24 < hours_since_last_engaged_event - 1e-6
                then 'the strongest burst ended after the last engaged event'
            when (lead_age_days < 14) <> (engaged_events_7d_vs_baseline is null)
                then 'engaged_events_7d_vs_baseline null differs from lead_age_days < 14'
            when (lead_age_days < 14) <> (high_intent_events_7d_vs_baseline is null)
                then 'high_intent_events_7d_vs_baseline null differs from lead_age_days < 14'
        end as failure

    from features

),

validation_errors as (

    select * from checks
    where failure is not null

)

select * from validation_errors
