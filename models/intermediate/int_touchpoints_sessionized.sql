-- Identified touchpoints with their web session. On-site events (page views,
-- downloads, forms, demo requests, chats) keep their session_id when the
-- source has one; otherwise a lead's events are cut into sessions by
-- var session_timeout_minutes of inactivity. Off-site events (email, ads,
-- webinars, events) have no session.

with

touchpoints as (

    select * from {{ ref('stg_web__touchpoints') }}

),

unsessionized_web_events as (

    select
        *,
        lag(occurred_at) over (partition by lead_id order by occurred_at, event_id) as previous_occurred_at

    from touchpoints
    where is_web_event and session_id is null

),

derived_sessions as (

    select
        *,
        'auto-' || lead_id || '-' || cast(
            sum(
                case
                    when
                        previous_occurred_at is null
                        or {{ seconds_between('previous_occurred_at', 'occurred_at') }}
                        > {{ var('session_timeout_minutes') }} * 60
                        then 1
                    else 0
                end
            ) over (partition by lead_id order by occurred_at, event_id rows unbounded preceding)
            as varchar
        ) as session_key,
        true as is_session_derived

    from unsessionized_web_events

),

all_events as (

    select * from derived_sessions
    union all
    select
        *,
        cast(null as timestamp) as previous_occurred_at,
        case when is_web_event then session_id end as session_key,
        false as is_session_derived
    from touchpoints
    where not is_web_event or session_id is not null

),

sessionized as (

    select
        event_id,
        lead_id,
        session_key as session_id,
        event_type,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        referrer_domain,
        page_path,
        page_type,
        asset_name,
        duration_seconds,
        is_high_intent_page,
        is_channel_derived,
        is_web_event,
        is_session_derived,
        case
            when session_key is not null
                then row_number() over (partition by session_key order by occurred_at, event_id) = 1
            else false
        end as is_session_start,
        case
            when session_key is not null
                then first_value(channel) over (partition by session_key order by occurred_at, event_id)
        end as session_channel,
        occurred_at

    from all_events

)

select * from sessionized
