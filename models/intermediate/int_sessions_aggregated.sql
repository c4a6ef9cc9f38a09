-- One row per web session of an identified lead: when it started and ended,
-- its entry channel and campaign, and what happened in it.

with

touchpoints as (

    select * from {{ ref('int_touchpoints_sessionized') }}
    where session_id is not null

),

event_types as (

    select * from {{ ref('event_types') }}

),

sessions as (

    select
        touchpoints.session_id,
        touchpoints.lead_id,
        min_by(touchpoints.channel, touchpoints.occurred_at) as channel,
        min_by(touchpoints.utm_campaign, touchpoints.occurred_at) as utm_campaign,
        min_by(touchpoints.page_type, touchpoints.occurred_at) as landing_page_type,
        bool_or(touchpoints.is_session_derived) as is_session_derived,
        count(*) as event_count,
        count(*) filter (where touchpoints.event_type = 'page_view') as page_view_count,
        count(distinct touchpoints.page_path) as distinct_page_count,
        count(*) filter (where touchpoints.is_high_intent_page) as high_intent_page_view_count,
        count(*) filter (where touchpoints.event_type = 'content_download') as content_download_count,
        -- form submits and demo requests (seed event_types: is_form_submission)
        count(*) filter (where event_types.is_form_submission) as form_submit_count,
        coalesce(sum(touchpoints.duration_seconds), 0) as duration_seconds,
        min(touchpoints.occurred_at) as started_at,
        max(touchpoints.occurred_at) as ended_at

    from touchpoints
    left join event_types
        on touchpoints.event_type = event_types.event_type
    group by touchpoints.session_id, touchpoints.lead_id

)

select * from sessions
