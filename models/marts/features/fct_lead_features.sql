-- One row per lead and snapshot_at: the lead's features as of snapshot_at,
-- computed only from data dated at or before it, and the label columns
-- (label_*), judged after it. Training uses the snapshots whose label is known;
-- scoring uses the snapshot with is_scoring_snapshot. See doc `fct_lead_features`.
--
-- Windowed counts never join snapshots to events: a window of N days is the
-- difference of two running totals of int_lead_activity_daily, found with
-- as-of joins (macro asof_join): the total as of the snapshot's day minus the
-- total as of N days earlier. The snapshot's day is activity_date(snapshot_at):
-- for a grid snapshot at midnight the days up to it hold exactly the events at
-- or before it. Sequence and journey flags compare once-per-lead "first time
-- it became true" timestamps (int_lead_milestones) with snapshot_at.

{%- set signals = lead_activity_signals() %}
{#- a window is the running total as of its end minus the one as of its start (none: since creation) -#}
{%- set window_starts = {'7d': 'as_of_7d', 'prev_7d': 'as_of_14d', '30d': 'as_of_30d', '90d': 'as_of_90d'} %}
{%- set crm_tools = ['salesforce', 'hubspot', 'marketo'] %}
{%- set data_stack_tools = ['snowflake', 'bigquery', 'redshift', 'databricks', 'dbt', 'segment'] %}

with

snapshots as (

    select * from {{ ref('int_lead_snapshots_gridded') }}

),

daily_activity as (

    select * from {{ ref('int_lead_activity_daily') }}

),

milestones as (

    select * from {{ ref('int_lead_milestones') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

active_days as (

    select
        lead_id,
        activity_date

    from daily_activity

),

touch_days as (

    select
        lead_id,
        activity_date,
        last_touch_at,
        last_touch_channel

    from daily_activity
    where last_touch_at is not null

),

snapshot_days as (

    select
        *,
        {{ activity_date('snapshot_at') }} as as_of_date

    from snapshots

),

lookup_days as (

    select
        *,
        cast({{ dbt.dateadd('day', -7, 'as_of_date') }} as date) as lookup_7d_date,
        cast({{ dbt.dateadd('day', -14, 'as_of_date') }} as date) as lookup_14d_date,
        cast({{ dbt.dateadd('day', -30, 'as_of_date') }} as date) as lookup_30d_date,
        cast({{ dbt.dateadd('day', -90, 'as_of_date') }} as date) as lookup_90d_date

    from snapshot_days

),

-- For each lookup day, the lead's latest active day on or before it: narrow
-- as-of joins that carry only that day; the running totals are joined to it
-- in `joined` (carrying them through the as-of joins costs far more).

matched_0d as (

    {{ asof_join(
        'lookup_days', 'active_days', 'lead_id', 'lookup_days.as_of_date', 'activity_date',
        ['activity_date'], 'matched_0d_'
    ) }}

),

matched_7d as (

    {{ asof_join(
        'matched_0d', 'active_days', 'lead_id', 'matched_0d.lookup_7d_date', 'activity_date',
        ['activity_date'], 'matched_7d_'
    ) }}

),

matched_14d as (

    {{ asof_join(
        'matched_7d', 'active_days', 'lead_id', 'matched_7d.lookup_14d_date', 'activity_date',
        ['activity_date'], 'matched_14d_'
    ) }}

),

matched_30d as (

    {{ asof_join(
        'matched_14d', 'active_days', 'lead_id', 'matched_14d.lookup_30d_date', 'activity_date',
        ['activity_date'], 'matched_30d_'
    ) }}

),

matched_90d as (

    {{ asof_join(
        'matched_30d', 'active_days', 'lead_id', 'matched_30d.lookup_90d_date', 'activity_date',
        ['activity_date'], 'matched_90d_'
    ) }}

),

-- the lead's last marketing touch on or before the snapshot's day
matched_last_touch as (

    {{ asof_join(
        'matched_90d', 'touch_days', 'lead_id', 'matched_90d.as_of_date', 'activity_date',
        ['last_touch_at', 'last_touch_channel'], 'matched_'
    ) }}

),

windows as (

    select
        matched.lead_id,
        matched.snapshot_at,
        matched.is_scoring_snapshot,
        matched.created_at,
        matched.label_is_known,
        matched.label_converted_in_horizon,
        matched.label_converted_at,
        matched.label_days_to_conversion,
        {%- for signal, windows in signals.items() %}
            {%- for window in windows %}
                {%- set window_start = window_starts.get(window) %}
                {%- set window_end = 'as_of_7d' if window == 'prev_7d' else 'as_of_0d' %}
                coalesce({{ window_end }}.{{ signal }}_to_date, 0)
                {%- if window_start %} - coalesce({{ window_start }}.{{ signal }}_to_date, 0){% endif %}
                    as {{ signal }}_{{ window }},
            {%- endfor %}
        {%- endfor %}
        as_of_0d.last_occurred_at as last_activity_at,
        matched.matched_last_touch_at as last_touch_at,
        matched.matched_last_touch_channel as last_touch_channel

    -- narrowest payload first: the columns a join adds are carried through the joins after it
    from matched_last_touch as matched
    left join daily_activity as as_of_14d
        on
            matched.lead_id = as_of_14d.lead_id
            and matched.matched_14d_activity_date = as_of_14d.activity_date
    left join daily_activity as as_of_90d
        on
            matched.lead_id = as_of_90d.lead_id
            and matched.matched_90d_activity_date = as_of_90d.activity_date
    left join daily_activity as as_of_7d
        on
            matched.lead_id = as_of_7d.lead_id
            and matched.matched_7d_activity_date = as_of_7d.activity_date
    left join daily_activity as as_of_30d
        on
            matched.lead_id = as_of_30d.lead_id
            and matched.matched_30d_activity_date = as_of_30d.activity_date
    left join daily_activity as as_of_0d
        on
            matched.lead_id = as_of_0d.lead_id
            and matched.matched_0d_activity_date = as_of_0d.activity_date

),

joined as (

    -- the lead's attributes and milestones last, so the joins above carry fewer columns
    select
        windows.*,
        {{ seconds_between('windows.created_at', 'windows.snapshot_at') }} / 86400.0 as lead_age_days,
        leads.seniority_level,
        leads.seniority_rank,
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
        milestones.paid_and_organic_touched_at

    from windows
    inner join leads
        on windows.lead_id = leads.lead_id
    left join milestones
        on windows.lead_id = milestones.lead_id

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
        company_size,
        company_size_ordinal,
        industry,
        region,
        country_code,
        lead_source,
        is_personal_email,
        {%- for tool in crm_tools %}
            coalesce(tech_stack_delimited like '%;{{ tool }};%', false) as has_{{ tool }},
        {%- endfor %}
        (
            0
            {%- for tool in data_stack_tools %}
                + case when tech_stack_delimited like '%;{{ tool }};%' then 1 else 0 end
            {%- endfor %}
        ) as data_stack_tool_count,
        coalesce(
            length(tech_stack_delimited) - length(replace(tech_stack_delimited, ';', '')) - 1, 0
        ) as tech_stack_count,
        lead_age_days,

        ---------- behaviour: counts over the last 7 / 30 / 90 days and since creation
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
        case when sessions_total > 0 then cast(page_views_total as double) / sessions_total end as pages_per_session,
        case
            when sessions_total > 0 then cast(time_on_site_seconds_total as double) / sessions_total
        end as seconds_per_session,
        last_activity_at,

        ---------- temporal pattern: lead's approximate local time, engaged events (not email opens)
        case
            when engaged_events_total > 0 then cast(weekend_events_total as double) / engaged_events_total
        end as weekend_event_share,
        case
            when engaged_events_total > 0 then cast(business_hours_events_total as double) / engaged_events_total
        end as business_hours_event_share,

        ---------- intent
        case
            when page_views_total > 0 then cast(high_intent_page_views_total as double) / page_views_total
        end as high_intent_page_share,
        case
            when page_views_30d > 0 then cast(high_intent_page_views_30d as double) / page_views_30d
        end as high_intent_page_share_30d,

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
        end as engagement_recency_score

    from joined

)

select * from features
