-- One row per lead: the first time each sequence or journey condition became
-- true (null = not yet, as of the scoring time). A condition holds at a
-- snapshot exactly when its time is at or before snapshot_at, and later data
-- can only add a later time, never move an earlier one: point-in-time flags
-- computed once per lead instead of once per snapshot.

{%- set rapid_progression_days = var('rapid_progression_days') | int %}

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

touchpoints as {{ inline_cte() }} (

    select * from {{ ref('int_touchpoints_sessionized') }}

),

sessions as (

    select * from {{ ref('int_sessions_aggregated') }}

),

touches as (

    select * from {{ ref('int_marketing_touches') }}

),

channels as (

    select * from {{ ref('channels') }}

),

activity_firsts as (

    select
        lead_id,
        min(occurred_at) as first_activity_at,
        min(occurred_at) filter (where event_type = 'page_view' and page_type = 'pricing') as first_pricing_view_at

    from touchpoints
    group by lead_id

),

downloads_after_pricing as (

    -- a content download after the lead had seen the pricing page
    select
        touchpoints.lead_id,
        min(touchpoints.occurred_at) as first_download_after_pricing_at

    from touchpoints
    inner join activity_firsts
        on touchpoints.lead_id = activity_firsts.lead_id
    where
        touchpoints.event_type = 'content_download'
        and touchpoints.occurred_at > activity_firsts.first_pricing_view_at
    group by touchpoints.lead_id

),

session_gaps as (

    select
        lead_id,
        started_at,
        lag(started_at) over (partition by lead_id order by started_at, session_id) as previous_started_at

    from sessions

),

revisits as (

    -- a visit starting within 48 hours of the start of the previous one
    select
        lead_id,
        min(started_at) as first_revisit_within_48h_at

    from session_gaps
    where {{ seconds_between('previous_started_at', 'started_at') }} <= 48 * 3600
    group by lead_id

),

progression_steps as (

    -- content consumed (1), pricing page seen (2), demo asked for or demo page seen (3)
    select
        lead_id,
        occurred_at,
        case
            when event_type in ('content_download', 'webinar_attended') then 1
            when event_type = 'page_view' and page_type = 'pricing' then 2
            else 3
        end as step

    from touchpoints
    where
        event_type in ('content_download', 'webinar_attended', 'demo_request')
        or (event_type = 'page_view' and page_type in ('pricing', 'demo'))

),

progression_content as (

    select
        *,
        -- latest content step at or before this step (ties: content, pricing, demo)
        max(case when step = 1 then occurred_at end) over (
            partition by lead_id
            order by occurred_at, step
            rows between unbounded preceding and current row
        ) as last_content_at

    from progression_steps

),

progression_pricing as (

    select
        *,
        -- the latest content seen before the latest pricing view up to this step
        {{ last_non_null_value(
            'case when step = 2 then last_content_at end', 'lead_id', 'occurred_at, step'
        ) }} as content_before_pricing_at

    from progression_content

),

rapid_progressions as (

    -- the first demo step that completes content -> pricing -> demo within the window
    select
        lead_id,
        min(occurred_at) as rapid_progression_at

    from progression_pricing
    where
        step = 3
        and {{ seconds_between('content_before_pricing_at', 'occurred_at') }}
        <= {{ rapid_progression_days * 86400 }}
    group by lead_id

),

touch_firsts as (

    select
        touches.lead_id,
        min(touches.occurred_at) as first_touch_at,
        min_by(touches.channel, touches.touch_number) as first_touch_channel,
        min(touches.occurred_at) filter (where channels.channel_group = 'paid') as first_paid_touch_at,
        min(touches.occurred_at) filter (where channels.channel_group = 'organic') as first_organic_touch_at

    from touches
    left join channels
        on touches.channel = channels.channel
    group by touches.lead_id

),

milestones as (

    select
        leads.lead_id,
        activity_firsts.first_activity_at,
        activity_firsts.first_pricing_view_at,
        downloads_after_pricing.first_download_after_pricing_at,
        revisits.first_revisit_within_48h_at,
        rapid_progressions.rapid_progression_at,
        touch_firsts.first_touch_at,
        touch_firsts.first_touch_channel,
        touch_firsts.first_paid_touch_at,
        touch_firsts.first_organic_touch_at,
        -- both kinds present from the later of the two first touches (greatest skips nulls)
        case
            when touch_firsts.first_paid_touch_at is not null and touch_firsts.first_organic_touch_at is not null
                then greatest(touch_firsts.first_paid_touch_at, touch_firsts.first_organic_touch_at)
        end as paid_and_organic_touched_at

    from leads
    left join activity_firsts
        on leads.lead_id = activity_firsts.lead_id
    left join downloads_after_pricing
        on leads.lead_id = downloads_after_pricing.lead_id
    left join revisits
        on leads.lead_id = revisits.lead_id
    left join rapid_progressions
        on leads.lead_id = rapid_progressions.lead_id
    left join touch_firsts
        on leads.lead_id = touch_firsts.lead_id

)

select * from milestones
