-- One row per lead and snapshot_at: the lead's features as of snapshot_at,
-- computed only from data dated at or before it, and the label columns
-- (label_*), judged after it. Training uses the snapshots whose label is known;
-- scoring uses the snapshot with is_scoring_snapshot. See doc `fct_lead_features`.
--
-- The windowed counts, recencies and bursts come from the as-of window joins
-- of int_lead_feature_windows (see doc timing_features); this model adds the
-- lead's attributes (stg_crm__leads) and derives the rates, trends and
-- interactions. Sequence and journey flags compare once-per-lead "first time
-- it became true" timestamps (int_lead_milestones) with snapshot_at.
--
-- Incremental (doc `incremental_feature_snapshots`): a run computes the snapshots
-- int_lead_feature_recompute recomputes (every one in a full build) and appends
-- them; the pre-hook deletes the stored rows that are not final and stops when
-- the columns changed (then: --full-refresh). input_fingerprint_id lets the next
-- run tell whether a lead's stored snapshots still hold. A full build runs one
-- bucket of leads at a time when the data is large (macro lead_bucket_count):
-- the first post-hook inserts the buckets after the first.

{{ config(
    materialized='incremental',
    incremental_strategy=feature_snapshot_strategy(),
    full_refresh=rebuilds_in_full(),
    on_schema_change='fail',
    pre_hook=["{{ feature_recompute_delete() }}"],
    post_hook=[
        "{{ insert_remaining_lead_buckets() }}",
        "{{ relabel_kept_snapshots() }}",
        "{{ feature_snapshot_stamp() }}"
    ]
) }}

-- depends_on: {{ ref('int_lead_snapshots_gridded') }} (post-hook relabel_kept_snapshots)

{%- set signals = lead_activity_signals() %}
{%- set recencies = lead_activity_recencies() %}
{%- set tools = tech_stack_tools() %}

with

windows as (

    select * from {{ ref('int_lead_feature_windows') }}

),

milestones as (

    select * from {{ ref('int_lead_milestones') }}
    {{ lead_bucket_filter('lead_id') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}
    {{ lead_bucket_filter('lead_id') }}

),

recompute as (

    select * from {{ ref('int_lead_feature_recompute') }}

),

joined as (

    -- the lead's attributes and milestones last, so the joins above carry fewer columns
    select
        windows.*,
        {{ seconds_between('windows.created_at', 'windows.snapshot_at') }} / 86400.0 as lead_age_days,
        -- the strongest 3-UTC-day burst up to the snapshot's day, or the last 3 days when stronger
        greatest(windows.max_day_burst_engaged_events_3d, windows.engaged_events_3d) as max_burst_engaged_events_3d,
        leads.seniority_level,
        leads.seniority_rank,
        leads.job_function,
        leads.is_student,
        leads.is_job_seeker,
        leads.is_retired,
        leads.is_self_employed,
        leads.has_non_buyer_title,
        leads.company_size,
        leads.company_size_ordinal,
        leads.industry,
        leads.region,
        leads.country_code,
        leads.lead_source,
        leads.is_personal_email,
        ';' || leads.tech_stack || ';' as tech_stack_delimited,
        milestones.first_activity_at,
        milestones.first_download_after_pricing_at,
        milestones.first_revisit_within_48h_at,
        milestones.rapid_progression_at,
        milestones.first_touch_at,
        milestones.first_touch_channel,
        milestones.paid_and_organic_touched_at,
        {{ lead_snapshot_fingerprint(
            'recompute.lead_fingerprint_id', 'windows.activity_to_date_hash', 'milestones', 'windows.snapshot_at'
        ) }} as input_fingerprint_id

    from windows
    inner join leads
        on windows.lead_id = leads.lead_id
    left join milestones
        on windows.lead_id = milestones.lead_id
    left join recompute
        on windows.lead_id = recompute.lead_id

),

features as (

    select
        ---------- ids and time
        lead_id,
        snapshot_at,
        is_scoring_snapshot,
        created_at,

        ---------- labels: judged after snapshot_at, never features
        label_is_known,
        label_converted_in_horizon,
        label_converted_at,
        label_days_to_conversion,

        ---------- firmographic and demographic
        seniority_level,
        seniority_rank,
        job_function,
        is_student,
        is_job_seeker,
        is_retired,
        is_self_employed,
        has_non_buyer_title,
        company_size,
        company_size_ordinal,
        industry,
        region,
        country_code,
        lead_source,
        is_personal_email,
        {%- for tool in tools.crm %}
            coalesce(tech_stack_delimited like '%;{{ tool }};%', false) as has_{{ tool }},
        {%- endfor %}
        (
            0
            {%- for tool in tools.data_stack %}
                + case when tech_stack_delimited like '%;{{ tool }};%' then 1 else 0 end
            {%- endfor %}
        ) as data_stack_tool_count,
        coalesce(
            length(tech_stack_delimited) - length(replace(tech_stack_delimited, ';', '')) - 1, 0
        ) as tech_stack_count,
        lead_age_days,

        ---------- behaviour: counts over the last 1 / 3 / 7 / 14 / 30 / 90 days and since creation
        {%- for signal, windows in signals.items() %}
            {%- for window in windows %}
                {{ signal }}_{{ window }},
            {%- endfor %}
        {%- endfor %}

        ---------- velocity and trend
        events_total / (greatest(lead_age_days, 7.0) / 7.0) as events_per_week,
        case
            when email_opens_30d > 0 then least(cast(email_clicks_30d as double) / email_opens_30d, 1.0)
        end as email_click_to_open_rate_30d,
        case
            when events_7d + events_prev_7d > 0
                then cast(events_7d - events_prev_7d as double) / (events_7d + events_prev_7d)
        end as activity_trend_7d,
        case
            when first_activity_at <= snapshot_at
                then {{ seconds_between('first_activity_at', 'snapshot_at') }} / 86400.0
        end as days_since_first_activity,
        {{ seconds_between('last_activity_at', 'snapshot_at') }} / 86400.0 as days_since_last_activity,
        sessions_90d / (least(greatest(lead_age_days, 7.0), 90.0) / 7.0) as sessions_per_week_90d,
        {{ ratio_when_positive('page_views_total', 'sessions_total') }} as pages_per_session,
        {{ ratio_when_positive('time_on_site_seconds_total', 'sessions_total') }} as seconds_per_session,
        last_activity_at,

        ---------- timing: recency of high-intent activity, hours (null: never by snapshot_at)
        {%- for name in recencies %}
            {{ seconds_between('last_' ~ name ~ '_at', 'snapshot_at') }} / 3600.0 as hours_since_last_{{ name }},
        {%- endfor %}

        ---------- timing: the last 7 days against the lead's own weekly rate of the 83 days before
        {%- for signal in ['engaged_events', 'high_intent_events'] %}
            case
                when lead_age_days >= 14
                    then ({{ signal }}_7d + 1.0) / (
                        ({{ signal }}_90d - {{ signal }}_7d) / (least(lead_age_days - 7, 83.0) / 7.0) + 1.0
                    )
            end as {{ signal }}_7d_vs_baseline,
        {%- endfor %}

        ---------- timing: the strongest burst of engaged events in 3 consecutive days
        max_burst_engaged_events_3d,
        case
            when max_burst_engaged_events_3d = 0 then null
            -- the last 3 days are the (most recent) strongest burst: it ends with the last engaged event
            when engaged_events_3d >= max_day_burst_engaged_events_3d
                then {{ seconds_between('last_engaged_event_at', 'snapshot_at') }} / 86400.0
            else {{ seconds_between('max_burst_ended_at', 'snapshot_at') }} / 86400.0
        end as days_since_max_burst,
        {{ ratio_when_positive('engaged_events_3d', 'max_burst_engaged_events_3d') }} as engaged_events_3d_vs_max_burst,

        ---------- temporal pattern: lead's approximate local time, engaged events (not email opens)
        {{ ratio_when_positive('weekend_events_total', 'engaged_events_total') }} as weekend_event_share,
        {{ ratio_when_positive('business_hours_events_total', 'engaged_events_total') }} as business_hours_event_share,

        ---------- intent
        {{ ratio_when_positive('high_intent_page_views_total', 'page_views_total') }} as high_intent_page_share,
        {{ ratio_when_positive('high_intent_page_views_30d', 'page_views_30d') }} as high_intent_page_share_30d,

        ---------- sequence: a flag is true from the first time its condition held
        coalesce(first_download_after_pricing_at <= snapshot_at, false) as has_viewed_pricing_before_download,
        coalesce(first_revisit_within_48h_at <= snapshot_at, false) as has_revisited_within_48h,
        coalesce(rapid_progression_at <= snapshot_at, false) as has_rapid_progression,

        ---------- journey: the marketing touches of int_marketing_touches
        case when first_touch_at <= snapshot_at then first_touch_channel end as first_touch_channel,
        last_touch_channel,
        {{ seconds_between('first_touch_at', 'last_touch_at') }} / 86400.0 as touch_span_days,
        {{ seconds_between('last_touch_at', 'snapshot_at') }} / 86400.0 as days_since_last_touch,
        coalesce(paid_and_organic_touched_at <= snapshot_at, false) as has_paid_and_organic_touches,
        last_touch_at,

        ---------- interactions
        seniority_rank * company_size_ordinal as seniority_x_company_size,
        -- depth (log of engaged events in the last 30 days) x recency (halves every 7 idle days)
        case
            when last_activity_at is null then 0.0
            else
                ln(1 + engaged_events_30d)
                * power(0.5, {{ seconds_between('last_activity_at', 'snapshot_at') }} / (7 * 86400.0))
        end as engagement_recency_score,

        ---------- incremental bookkeeping: an id, never a feature
        input_fingerprint_id

    from joined

)

select * from features
