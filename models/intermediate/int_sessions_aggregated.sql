-- One row per web session of an identified lead: when it started and ended,
-- its entry channel and campaign, and what happened in it.
--
-- Incremental (doc `incremental_ledger`): a run recomputes, whole, the leads
-- int_touchpoints_sessionized rewrote since this table's latest
-- source_loaded_at (macro rewritten_leads; unique_key lead_id); a lead left
-- with no session loses its rows (post-hook delete_stale_lead_rows).

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

form_submission_types as (

    -- form submits and demo requests
    select event_type from {{ ref('event_types') }}
    where is_form_submission

),

touchpoints as (

    select
        sessionized.*,
        form_submission_types.event_type is not null as is_form_submission
    from {{ ref('int_touchpoints_sessionized') }} as sessionized
    left join form_submission_types
        on sessionized.event_type = form_submission_types.event_type
    where sessionized.session_id is not null
    {{ incremental_batch_filter('sessionized.lead_id', 'and') }}

),

sessions as (

    select
        session_id,
        lead_id,
        -- the first non-null value of the session: DuckDB's min_by skips null values, Spark's
        -- does not, and both skip a null ordering key
        min_by(channel, case when channel is not null then occurred_at end) as channel,
        min_by(utm_campaign, case when utm_campaign is not null then occurred_at end) as utm_campaign,
        min_by(page_type, case when page_type is not null then occurred_at end) as landing_page_type,
        bool_or(is_session_derived) as is_session_derived,
        count(*) as event_count,
        count(*) filter (where event_type = 'page_view') as page_view_count,
        count(distinct page_path) as distinct_page_count,
        count(*) filter (where is_high_intent_page) as high_intent_page_view_count,
        count(*) filter (where event_type = 'content_download') as content_download_count,
        count(*) filter (where is_form_submission) as form_submit_count,
        coalesce(sum(duration_seconds), 0) as duration_seconds,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        max(source_loaded_at) as source_loaded_at

    from touchpoints
    group by session_id, lead_id

)

select * from sessions
