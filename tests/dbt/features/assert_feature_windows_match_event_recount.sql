-- For a sample of leads, recount some windowed features straight from the
-- events with exact timestamps (the slow way the mart avoids) and compare.
-- A window of N days covers (day_end - N days, day_end], day_end being
-- snapshot_at for a grid snapshot (a midnight) and the end of the scoring
-- day for the scoring snapshot. Returns the snapshots that differ.

with

sample_leads as (

    select lead_id from {{ ref('stg_crm__leads') }}
    order by lead_id
    limit 200

),

features as (

    select features.*
    from {{ ref('fct_lead_features') }} as features
    inner join sample_leads
        on features.lead_id = sample_leads.lead_id

),

events as (

    select events.*
    from {{ ref('int_touchpoints_sessionized') }} as events
    inner join sample_leads
        on events.lead_id = sample_leads.lead_id

),

snapshot_days as (

    select
        lead_id,
        snapshot_at,
        case
            when snapshot_at = {{ dbt.date_trunc('day', 'snapshot_at') }} then snapshot_at
            else {{ dbt.dateadd('day', 1, dbt.date_trunc('day', 'snapshot_at')) }}
        end as day_end_at

    from features

),

snapshot_windows as (

    select
        *,
        {{ dbt.dateadd('day', -7, 'day_end_at') }} as day_end_7d_before_at,
        {{ dbt.dateadd('day', -14, 'day_end_at') }} as day_end_14d_before_at,
        {{ dbt.dateadd('day', -30, 'day_end_at') }} as day_end_30d_before_at,
        {{ dbt.dateadd('day', -90, 'day_end_at') }} as day_end_90d_before_at

    from snapshot_days

),

recounted as (

    select
        windows.lead_id,
        windows.snapshot_at,
        count(events.event_id) as events_total,
        count(case when events.occurred_at > windows.day_end_7d_before_at then 1 end) as events_7d,
        count(
            case
                when
                    events.occurred_at <= windows.day_end_7d_before_at
                    and events.occurred_at > windows.day_end_14d_before_at
                    then 1
            end
        ) as events_prev_7d,
        count(
            case
                when events.event_type = 'page_view' and events.occurred_at > windows.day_end_30d_before_at then 1
            end
        ) as page_views_30d,
        count(
            case
                when events.event_type = 'email_open' and events.occurred_at > windows.day_end_90d_before_at then 1
            end
        ) as email_opens_90d,
        count(
            distinct case when events.event_type = 'content_download' then events.asset_name end
        ) as distinct_assets_downloaded_total,
        max(events.occurred_at) as last_activity_at

    from snapshot_windows as windows
    left join events
        on
            windows.lead_id = events.lead_id
            and windows.day_end_at >= events.occurred_at
    group by windows.lead_id, windows.snapshot_at

),

validation_errors as (

    select
        features.lead_id,
        features.snapshot_at,
        recounted.events_total as recounted_events_total,
        features.events_total

    from features
    inner join recounted
        on
            features.lead_id = recounted.lead_id
            and features.snapshot_at = recounted.snapshot_at
    where
        features.events_total <> recounted.events_total
        or features.events_7d <> recounted.events_7d
        or features.events_prev_7d <> recounted.events_prev_7d
        or features.page_views_30d <> recounted.page_views_30d
        or features.email_opens_90d <> recounted.email_opens_90d
        or features.distinct_assets_downloaded_total <> recounted.distinct_assets_downloaded_total
        or coalesce(features.last_activity_at <> recounted.last_activity_at, true)
        and not (features.last_activity_at is null and recounted.last_activity_at is null)

)

select * from validation_errors
