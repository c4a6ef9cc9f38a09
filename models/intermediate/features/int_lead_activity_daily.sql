-- One row per lead and UTC activity day with any activity: what the lead did
-- that day (additive counts per signal, list in macro lead_activity_signals)
-- and running totals since the lead was created (<signal>_to_date). The base
-- of every windowed feature: fct_lead_features takes a window as the
-- difference of two running totals found with as-of joins, so events are
-- aggregated once, never per snapshot. A day is (midnight, next midnight]:
-- see macro activity_date. Also the day's last marketing touch.

{%- set signals = lead_activity_signals().keys() | list %}
{#- where a signal's daily count comes from when not from daily_events -#}
{%- set signal_sources = {
    'distinct_assets_downloaded': 'coalesce(first_asset_downloads.distinct_assets_downloaded, 0)',
    'distinct_case_studies_viewed': 'coalesce(first_case_study_views.distinct_case_studies_viewed, 0)',
    'marketing_touches': 'coalesce(daily_touches.marketing_touches, 0)',
    'distinct_channels': 'coalesce(first_channel_touches.distinct_channels, 0)',
} %}
{#- counts per lead are integers; seconds on site could pass 2^31 for a very busy lead -#}
{%- set signal_types = {'time_on_site_seconds': 'bigint'} %}

with

touchpoints as (

    select * from {{ ref('int_touchpoints_sessionized') }}

),

-- the two small subsets below are imported apart, filtered, so that the
-- touchpoints are scanned in a stream rather than materialized for three readers
content_downloads as (

    select * from {{ ref('int_touchpoints_sessionized') }}
    where event_type = 'content_download' and asset_name is not null

),

case_study_views as (

    select * from {{ ref('int_touchpoints_sessionized') }}
    where event_type = 'page_view' and page_type = 'case_study'

),

touches as (

    select * from {{ ref('int_marketing_touches') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

lead_utc_offsets as (

    -- weekend and business hours are read in the lead's approximate local time:
    -- a typical UTC offset of its sales region (UTC when the region is unknown)
    select
        lead_id,
        case region
            when 'north_america' then -6
            when 'latam' then -3
            when 'emea' then 1
            when 'apac' then 8
            else 0
        end as utc_offset_hours

    from leads

),

events as (

    select
        touchpoints.lead_id,
        touchpoints.event_type,
        touchpoints.page_type,
        touchpoints.is_high_intent_page,
        touchpoints.is_session_start,
        touchpoints.is_web_event,
        touchpoints.duration_seconds,
        touchpoints.occurred_at,
        {{ activity_date('touchpoints.occurred_at') }} as activity_date,
        {{ dbt.dateadd('hour', 'lead_utc_offsets.utc_offset_hours', 'touchpoints.occurred_at') }}
            as local_occurred_at

    from touchpoints
    inner join lead_utc_offsets
        on touchpoints.lead_id = lead_utc_offsets.lead_id

),

events_flagged as (

    select
        *,
        -- 1970-01-05 was a Monday: days since then mod 7 is 0 (Monday) .. 6 (Sunday)
        mod(
            {{ dbt.datediff("cast('1970-01-05' as date)", "cast(local_occurred_at as date)", "day") }}, 7
        ) >= 5 as is_local_weekend,
        extract(hour from local_occurred_at) between 9 and 17 as is_local_working_hour

    from events

),

daily_events as (

    select
        lead_id,
        activity_date,
        count(*) as events,
        -- everything but email opens, which privacy proxies trigger without the lead
        count(*) filter (where event_type <> 'email_open') as engaged_events,
        count(*) filter (where event_type = 'page_view') as page_views,
        count(*) filter (where is_session_start) as sessions,
        coalesce(sum(duration_seconds) filter (where is_web_event), 0) as time_on_site_seconds,
        count(*) filter (where event_type = 'content_download') as content_downloads,
        count(*) filter (where event_type = 'email_open') as email_opens,
        count(*) filter (where event_type = 'email_click') as email_clicks,
        count(*) filter (where event_type = 'webinar_attended') as webinars_attended,
        count(*) filter (where event_type = 'demo_request') as demo_requests,
        count(*) filter (where event_type = 'form_submit') as form_submits,
        count(*) filter (where event_type = 'page_view' and page_type = 'pricing') as pricing_page_views,
        count(*) filter (where event_type = 'page_view' and page_type = 'demo') as demo_page_views,
        count(*) filter (where event_type = 'page_view' and page_type = 'contact') as contact_page_views,
        count(*) filter (where event_type = 'page_view' and page_type = 'comparison') as comparison_page_views,
        count(*) filter (where event_type = 'page_view' and is_high_intent_page) as high_intent_page_views,
        count(*) filter (where event_type = 'page_view' and page_type = 'case_study') as case_study_page_views,
        count(*) filter (where event_type = 'page_view' and page_type = 'careers') as careers_page_views,
        count(*) filter (where event_type <> 'email_open' and is_local_weekend) as weekend_events,
        count(*) filter (
            where event_type <> 'email_open' and not is_local_weekend and is_local_working_hour
        ) as business_hours_events,
        1 as active_days,
        max(occurred_at) as last_occurred_at

    from events_flagged
    group by lead_id, activity_date

),

first_asset_downloads as (

    -- the day each distinct asset was first downloaded: their running total is
    -- the number of distinct assets downloaded to date
    select
        lead_id,
        activity_date,
        count(*) as distinct_assets_downloaded

    from (
        select
            lead_id,
            asset_name,
            {{ activity_date('min(occurred_at)') }} as activity_date
        from content_downloads
        group by lead_id, asset_name
    ) as assets
    group by lead_id, activity_date

),

first_case_study_views as (

    select
        lead_id,
        activity_date,
        count(*) as distinct_case_studies_viewed

    from (
        select
            lead_id,
            page_path,
            {{ activity_date('min(occurred_at)') }} as activity_date
        from case_study_views
        group by lead_id, page_path
    ) as case_studies
    group by lead_id, activity_date

),

daily_touches as (

    select
        lead_id,
        {{ activity_date('occurred_at') }} as activity_date,
        count(*) as marketing_touches,
        max(occurred_at) as last_touch_at,
        max_by(channel, touch_number) as last_touch_channel

    from touches
    group by lead_id, {{ activity_date('occurred_at') }}

),

first_channel_touches as (

    select
        lead_id,
        activity_date,
        count(*) as distinct_channels

    from (
        select
            lead_id,
            channel,
            {{ activity_date('min(occurred_at)') }} as activity_date
        from touches
        group by lead_id, channel
    ) as channels
    group by lead_id, activity_date

),

daily as (

    -- every touch, first download and first case-study view is an event, so
    -- its day is a day of daily_events
    select
        daily_events.lead_id,
        daily_events.activity_date,
        {%- for signal in signals %}
            {%- set source = signal_sources.get(signal, 'daily_events.' ~ signal) %}
            cast({{ source }} as {{ signal_types.get(signal, 'integer') }}) as {{ signal }},
        {%- endfor %}
        daily_events.last_occurred_at,
        daily_touches.last_touch_at,
        daily_touches.last_touch_channel

    from daily_events
    left join first_asset_downloads
        on
            daily_events.lead_id = first_asset_downloads.lead_id
            and daily_events.activity_date = first_asset_downloads.activity_date
    left join first_case_study_views
        on
            daily_events.lead_id = first_case_study_views.lead_id
            and daily_events.activity_date = first_case_study_views.activity_date
    left join daily_touches
        on
            daily_events.lead_id = daily_touches.lead_id
            and daily_events.activity_date = daily_touches.activity_date
    left join first_channel_touches
        on
            daily_events.lead_id = first_channel_touches.lead_id
            and daily_events.activity_date = first_channel_touches.activity_date

),

running_totals as (

    select
        lead_id,
        activity_date,
        {%- for signal in signals %}
            {{ signal }},
        {%- endfor %}
        {%- for signal in signals %}
            cast(sum({{ signal }}) over lead_days as {{ signal_types.get(signal, 'integer') }})
                as {{ signal }}_to_date,
        {%- endfor %}
        last_occurred_at,
        last_touch_at,
        last_touch_channel

    from daily
    window lead_days as (partition by lead_id order by activity_date rows between unbounded preceding and current row)

)

select * from running_totals
