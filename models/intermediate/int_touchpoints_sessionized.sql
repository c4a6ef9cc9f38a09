-- Identified touchpoints with their web session. On-site events (page views,
-- downloads, forms, demo requests, chats) keep their session_id when the
-- source has one; otherwise a lead's events are cut into sessions by
-- var session_timeout_minutes of inactivity. Off-site events (email, ads,
-- webinars, events) have no session.
-- The windows run on narrow rows (ids and times) and are joined back: window
-- operators carrying every column are several times slower.
--
-- Incremental (doc `incremental_ledger`): a run recomputes the leads whose
-- ledger partition base_web__touchpoints reloaded since this table's latest
-- source_loaded_at, with every lead sharing a source session_id with them,
-- whole (unique_key lead_id); a lead left with no valid touchpoint loses its
-- rows (post-hook; a full build, or Spark's, has nothing to delete).

-- depends_on: {{ ref('base_web__touchpoints') }}

{{ config(
    materialized='incremental',
    incremental_strategy=incremental_strategy(),
    full_refresh=rebuilds_in_full(),
    unique_key='lead_id',
    on_schema_change='fail',
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where lead_id not in (select stg.lead_id from {{ ref('stg_web__touchpoints') }} as stg){% endif %}"
    ]
) }}

with

{%- if is_incremental() %}

changed_leads as (

    select distinct lead_id
    from {{ ref('base_web__touchpoints') }}
    where
        ledger_partition like 'lead:%'
        and lead_id is not null
        and ledger_loaded_at > (
            select coalesce(max(source_loaded_at), cast('0001-01-01' as timestamp)) from {{ this }}
        )

),

shared_sessions as (

    -- a source session_id seen on a changed lead and on another one: the
    -- session's first event is found among both leads' events
    select distinct session_id
    from {{ ref('stg_web__touchpoints') }}
    where
        session_id is not null
        and lead_id in (select changed_leads.lead_id from changed_leads)

),

batch_leads as (

    select lead_id from changed_leads

    union

    select lead_id
    from {{ ref('stg_web__touchpoints') }}
    where session_id in (select shared_sessions.session_id from shared_sessions)

),

{%- endif %}

touchpoints as {{ inline_cte() }} (

    select * from {{ ref('stg_web__touchpoints') }}
    {{ incremental_batch_filter('lead_id') }}

),

unsessionized_web_events as (

    select
        event_id,
        lead_id,
        occurred_at,
        lag(occurred_at) over (partition by lead_id order by occurred_at, event_id) as previous_occurred_at
    from touchpoints
    where is_web_event and session_id is null

),

derived_sessions as (

    select
        event_id,
        occurred_at,
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
            as {{ dbt.type_string() }}
        ) as session_key,
        true as is_session_derived
    from unsessionized_web_events

),

web_sessions as (

    select
        event_id,
        occurred_at,
        session_key,
        is_session_derived
    from derived_sessions

    union all

    select
        event_id,
        occurred_at,
        session_id as session_key,
        false as is_session_derived
    from touchpoints
    where is_web_event and session_id is not null

),

session_starts as (

    select
        session_key,
        event_id as first_event_id,
        row_number() over (partition by session_key order by occurred_at, event_id) as event_number
    from web_sessions

),

first_events as (

    select
        session_starts.session_key,
        session_starts.first_event_id,
        touchpoints.channel
    from session_starts
    inner join touchpoints
        on session_starts.first_event_id = touchpoints.event_id
    where session_starts.event_number = 1

),

sessionized as (

    select
        touchpoints.event_id,
        touchpoints.lead_id,
        web_sessions.session_key as session_id,
        touchpoints.event_type,
        touchpoints.channel,
        touchpoints.utm_source,
        touchpoints.utm_medium,
        touchpoints.utm_campaign,
        touchpoints.referrer_domain,
        touchpoints.page_path,
        touchpoints.page_type,
        touchpoints.asset_name,
        touchpoints.duration_seconds,
        touchpoints.is_high_intent_page,
        touchpoints.is_channel_derived,
        touchpoints.is_web_event,
        coalesce(web_sessions.is_session_derived, false) as is_session_derived,
        coalesce(touchpoints.event_id = first_events.first_event_id, false) as is_session_start,
        first_events.channel as session_channel,
        touchpoints.occurred_at,
        {{ run_started_at_timestamp() }} as source_loaded_at
    from touchpoints
    left join web_sessions
        on touchpoints.event_id = web_sessions.event_id
    left join first_events
        on web_sessions.session_key = first_events.session_key

)

select * from sessionized
