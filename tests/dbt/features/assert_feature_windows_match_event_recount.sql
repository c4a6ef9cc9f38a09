-- For a sample of 200 leads, recount windowed and recency features straight from
-- the events with exact timestamps (the slow way the mart avoids) and compare.
-- A window of N days is exactly (snapshot_at - N days, snapshot_at] for every
-- snapshot: grid snapshots (midnights) and the scoring snapshot (any time of
-- day) alike; prev_7d is (snapshot_at - 14 days, snapshot_at - 7 days]. An
-- active day counts once, at its first event. Recency is the hours from the
-- last event of the kind at or before snapshot_at. Which event types are
-- engaged or high-intent is read from seed event_types. Returns the snapshots
-- that differ, with the first column that does.

{%- set windows = {'1d': 1, '3d': 3, '7d': 7, '14d': 14, '30d': 30, '90d': 90} %}
{#- column -> (condition on events, window) -#}
{%- set recounts = {
    'events_1d': ('true', '1d'),
    'events_3d': ('true', '3d'),
    'events_7d': ('true', '7d'),
    'events_14d': ('true', '14d'),
    'events_30d': ('true', '30d'),
    'events_90d': ('true', '90d'),
    'events_total': ('true', 'total'),
    'engaged_events_1d': ('events.is_engaged_event_type', '1d'),
    'engaged_events_3d': ('events.is_engaged_event_type', '3d'),
    'page_views_30d': ("events.event_type = 'page_view'", '30d'),
    'sessions_7d': ('events.is_session_start', '7d'),
    'email_opens_90d': ("events.event_type = 'email_open'", '90d'),
    'email_clicks_14d': ("events.event_type = 'email_click'", '14d'),
    'demo_requests_3d': ("events.event_type = 'demo_request'", '3d'),
    'form_submits_1d': ("events.event_type = 'form_submit'", '1d'),
    'pricing_page_views_1d': ("events.event_type = 'page_view' and events.page_type = 'pricing'", '1d'),
    'content_downloads_14d': ("events.event_type = 'content_download'", '14d'),
    'high_intent_events_14d': (
        "(events.event_type = 'page_view' and events.is_high_intent_page)"
        ~ " or events.is_high_intent_event_type"
        ~ " or (events.event_type = 'form_submit' and events.page_type in ('contact', 'pricing', 'demo'))",
        '14d'
    ),
} %}

with

sample_leads as (

    -- a stable pseudo-random sample (lead ids are chronological: the first ones
    -- would all be old leads, closed long before the scoring snapshot)
    select lead_id from {{ ref('stg_crm__leads') }}
    order by {{ stable_hash_bucket('lead_id', 1000000) }}, lead_id
    limit 200

),

features as (

    select features.*
    from {{ ref('fct_lead_features') }} as features
    inner join sample_leads
        on features.lead_id = sample_leads.lead_id

),

events as (

    select
        events.*,
        event_types.is_engaged as is_engaged_event_type,
        event_types.is_high_intent as is_high_intent_event_type

    from {{ ref('int_touchpoints_sessionized') }} as events
    inner join sample_leads
        on events.lead_id = sample_leads.lead_id
    left join {{ ref('event_types') }} as event_types
        on events.event_type = event_types.event_type

),

active_days as (

    -- each UTC day (midnight, next midnight] with activity, at its first event
    select
        lead_id,
        min(occurred_at) as first_occurred_at

    from events
    group by lead_id, {{ activity_date('occurred_at') }}

),

snapshot_windows as (

    select
        lead_id,
        snapshot_at,
        {%- for window, days in windows.items() %}
            {{ dbt.dateadd('day', -days, 'snapshot_at') }} as window_{{ window }}_start_at,
        {%- endfor %}
        {{ dbt.dateadd('day', -14, 'snapshot_at') }} as window_prev_7d_start_at

    from features

),

recounted_events as (

    select
        windows.lead_id,
        windows.snapshot_at,
        {%- for column, (condition, window) in recounts.items() %}
            count(
                case
                    when
                        events.event_id is not null
                        and ({{ condition }})
                        {%- if window != 'total' %}
                            and events.occurred_at > windows.window_{{ window }}_start_at
                        {%- endif %}
                        then 1
                end
            ) as {{ column }},
        {%- endfor %}
        count(
            case
                when
                    events.occurred_at > windows.window_prev_7d_start_at
                    and events.occurred_at <= windows.window_7d_start_at
                    then 1
            end
        ) as events_prev_7d,
        count(
            distinct case when events.event_type = 'content_download' then events.asset_name end
        ) as distinct_assets_downloaded_total,
        max(events.occurred_at) as last_activity_at,
        max(case when events.event_type = 'demo_request' then events.occurred_at end) as last_demo_request_at,
        max(case when events.is_engaged_event_type then events.occurred_at end) as last_engaged_event_at,
        max(
            case when events.event_type = 'page_view' and events.page_type = 'pricing' then events.occurred_at end
        ) as last_pricing_view_at

    from snapshot_windows as windows
    left join events
        on
            windows.lead_id = events.lead_id
            and windows.snapshot_at >= events.occurred_at
    group by windows.lead_id, windows.snapshot_at

),

recounted_days as (

    select
        windows.lead_id,
        windows.snapshot_at,
        {%- for window in ['3d', '7d', '14d'] %}
            count(
                case when active_days.first_occurred_at > windows.window_{{ window }}_start_at then 1 end
            ) as active_days_{{ window }},
        {%- endfor %}
        count(active_days.first_occurred_at) as active_days_total

    from snapshot_windows as windows
    left join active_days
        on
            windows.lead_id = active_days.lead_id
            and windows.snapshot_at >= active_days.first_occurred_at
    group by windows.lead_id, windows.snapshot_at

),

compared as (

    select
        features.lead_id,
        features.snapshot_at,
        features.is_scoring_snapshot,
        case
            {%- for column in (recounts.keys() | list) + ['events_prev_7d', 'distinct_assets_downloaded_total'] %}
                when features.{{ column }} <> recounted_events.{{ column }} then '{{ column }}'
            {%- endfor %}
            {%- for column in ['active_days_3d', 'active_days_7d', 'active_days_14d', 'active_days_total'] %}
                when features.{{ column }} <> recounted_days.{{ column }} then '{{ column }}'
            {%- endfor %}
            when
                not coalesce(
                    features.last_activity_at = recounted_events.last_activity_at,
                    features.last_activity_at is null and recounted_events.last_activity_at is null
                )
                then 'last_activity_at'
            {%- for kind in ['demo_request', 'engaged_event', 'pricing_view'] %}
                when
                    not coalesce(
                        abs(
                            features.hours_since_last_{{ kind }} * 3600
                            - {{ seconds_between('recounted_events.last_' ~ kind ~ '_at', 'features.snapshot_at') }}
                        ) <= 0.001,
                        features.hours_since_last_{{ kind }} is null and recounted_events.last_{{ kind }}_at is null
                    )
                    then 'hours_since_last_{{ kind }}'
            {%- endfor %}
        end as failure

    from features
    inner join recounted_events
        on
            features.lead_id = recounted_events.lead_id
            and features.snapshot_at = recounted_events.snapshot_at
    inner join recounted_days
        on
            features.lead_id = recounted_days.lead_id
            and features.snapshot_at = recounted_days.snapshot_at

),

validation_errors as (

    select * from compared
    where failure is not null

)

select * from validation_errors
