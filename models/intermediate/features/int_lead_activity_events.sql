-- One row per event of a known lead (int_touchpoints_sessionized) with what the
-- activity signals read (macros lead_event_conditions and
-- lead_activity_signal_definitions): the event's kind columns (its type's flags
-- is_engaged and is_high_intent from seed event_types), its UTC activity
-- day (macro activity_date) and whether it fell on a weekend or in working hours
-- in the lead's approximate local time. Ephemeral: int_lead_activity_daily and
-- int_lead_activity_partial_days read the same rows without a stored copy.

{{ config(materialized='ephemeral') }}

with

touchpoints as (

    select * from {{ ref('int_touchpoints_sessionized') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

event_types as (

    select * from {{ ref('event_types') }}

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
        touchpoints.event_id,
        touchpoints.lead_id,
        touchpoints.event_type,
        touchpoints.page_type,
        touchpoints.is_high_intent_page,
        touchpoints.is_session_start,
        touchpoints.is_web_event,
        event_types.is_engaged as is_engaged_event_type,
        event_types.is_high_intent as is_high_intent_event_type,
        touchpoints.duration_seconds,
        touchpoints.occurred_at,
        touchpoints.source_loaded_at,
        {{ activity_date('touchpoints.occurred_at') }} as activity_date,
        {{ dbt.dateadd('hour', 'lead_utc_offsets.utc_offset_hours', 'touchpoints.occurred_at') }}
            as local_occurred_at

    from touchpoints
    inner join lead_utc_offsets
        on touchpoints.lead_id = lead_utc_offsets.lead_id
    left join event_types
        on touchpoints.event_type = event_types.event_type

),

events_flagged as (

    select
        event_id,
        lead_id,
        event_type,
        page_type,
        is_high_intent_page,
        is_session_start,
        is_web_event,
        is_engaged_event_type,
        is_high_intent_event_type,
        duration_seconds,
        occurred_at,
        source_loaded_at,
        activity_date,
        -- 1970-01-05 was a Monday: days since then mod 7 is 0 (Monday) .. 6 (Sunday)
        mod(
            {{ dbt.datediff("cast('1970-01-05' as date)", "cast(local_occurred_at as date)", "day") }}, 7
        ) >= 5 as is_local_weekend,
        extract(hour from local_occurred_at) between 9 and 17 as is_local_working_hour

    from events

)

select * from events_flagged
