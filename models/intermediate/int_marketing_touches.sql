-- One row per marketing touch of an identified lead: the single definition of
-- a "touch" that attribution paths and journey features share.
-- A touch is the start of a web session (its entry channel) or an event of a
-- type with is_marketing_touch in seed event_types (an email click, an ad
-- click, a webinar or event attended). Email opens are not touches:
-- they are passive and inflated by privacy proxies that pre-fetch every email.
-- A touch of the same channel within var session_timeout_minutes of the
-- previous touch is the same interaction seen twice (an ad click and the
-- session it lands in) and is folded into it.
--
-- Incremental (doc `incremental_ledger`): a run recomputes, whole, the leads
-- int_touchpoints_sessionized rewrote since this table's latest
-- source_loaded_at (macro rewritten_leads; unique_key lead_id); a lead left
-- with no touch loses its rows (post-hook delete_stale_lead_rows).

{{ config(
    materialized='incremental',
    incremental_strategy=incremental_strategy(),
    full_refresh=rebuilds_in_full(),
    unique_key='lead_id',
    on_schema_change='fail',
    post_hook=["{{ delete_stale_lead_rows(ref('int_touchpoints_sessionized')) }}"]
) }}

with

{%- if is_incremental() %}

batch_leads as (

    {{ rewritten_leads(ref('int_touchpoints_sessionized')) }}

),

{%- endif %}

marketing_touch_types as (

    select event_type from {{ ref('event_types') }}
    where is_marketing_touch

),

touchpoints as (

    select * from {{ ref('int_touchpoints_sessionized') }}
    where
        (
            is_session_start
            or event_type in (select marketing_touch_types.event_type from marketing_touch_types)
        )
    {{ incremental_batch_filter('lead_id', 'and') }}

),

candidate_touches as (

    select
        event_id,
        lead_id,
        session_id,
        case when is_session_start then session_channel else channel end as channel,
        utm_campaign,
        case
            when is_session_start then 'session'
            else event_type
        end as touch_type,
        occurred_at,
        lag(case when is_session_start then session_channel else channel end) over (
            partition by lead_id order by occurred_at, event_id
        ) as previous_channel,
        lag(occurred_at) over (partition by lead_id order by occurred_at, event_id) as previous_occurred_at,
        source_loaded_at

    from touchpoints

),

touches as (

    select
        event_id as touch_id,
        lead_id,
        session_id,
        channel,
        utm_campaign,
        touch_type,
        occurred_at,
        row_number() over (partition by lead_id order by occurred_at, event_id) as touch_number,
        source_loaded_at

    from candidate_touches
    where
        previous_channel is null
        or previous_channel <> channel
        or {{ seconds_between('previous_occurred_at', 'occurred_at') }} > {{ var('session_timeout_minutes') }} * 60

)

select * from touches
