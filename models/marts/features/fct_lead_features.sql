-- One row per lead and snapshot_at: the lead's features as of snapshot_at,
-- computed only from data dated at or before it, and the label columns
-- (label_*), judged after it. Training uses the snapshots whose label is known;
-- scoring uses the snapshot with is_scoring_snapshot. See doc `fct_lead_features`.
--
-- Windowed counts never join snapshots to events: a window of N days, exactly
-- (snapshot_at - N days, snapshot_at], is the total as of its end minus the
-- total as of its start, both running totals of int_lead_activity_daily. The
-- end is the running total of the snapshot's day, activity_date(snapshot_at):
-- for a grid snapshot at midnight the days up to it hold exactly the events at
-- or before it, and the scoring snapshot's day holds nothing after it (nothing
-- later is staged). The start T = snapshot_at - N days is the running total of
-- the last full UTC day ending at or before T plus the events of T's own day
-- up to T (int_lead_activity_partial_days: none when T is a midnight, so only
-- the scoring snapshot rows get that correction). The active day holding each
-- running total is matched with an as-of join in int_lead_snapshots_matched
-- and joined here by equality. Recency, baseline and burst features come from
-- the snapshot's own as-of row (see doc timing_features). Sequence and journey
-- flags compare once-per-lead "first time it became true" timestamps
-- (int_lead_milestones) with snapshot_at.

{%- set signals = lead_activity_signals() %}
{%- set recencies = lead_activity_recencies() %}
{%- set start_days = window_start_days() %}
{#- the signals whose running total is looked up N days before snapshot_at (0: at it) -#}
{%- set looked_up = {0: []} %}
{%- for days in start_days %}
    {%- do looked_up.update({days: []}) %}
{%- endfor %}
{%- for signal, windows in signals.items() %}
    {%- for window in windows %}
        {%- for days in window_bounds(window) if days is not none and signal not in looked_up[days] %}
            {%- do looked_up[days].append(signal) %}
        {%- endfor %}
    {%- endfor %}
{%- endfor %}
{#- the window-start joins, narrowest payload (fewest signals looked up there) first -#}
{%- set payloads = [] %}
{%- for days in start_days %}
    {%- do payloads.append((looked_up[days] | length, days)) %}
{%- endfor %}
{%- set joins_by_payload = payloads | sort | map(attribute=1) | list %}
{#- (signal, N) of every window start N a signal needs: the partial-day columns -#}
{%- set partial_columns = [] %}
{%- for signal, windows in signals.items() %}
    {%- for days in window_start_days(windows) %}
        {%- do partial_columns.append((signal, days)) %}
    {%- endfor %}
{%- endfor %}
{%- set crm_tools = ['salesforce', 'hubspot', 'marketo'] %}
{%- set data_stack_tools = ['snowflake', 'bigquery', 'redshift', 'databricks', 'dbt', 'segment'] %}

with

snapshots as (

    select * from {{ ref('int_lead_snapshots_matched') }}

),

partial_days as (

    select * from {{ ref('int_lead_activity_partial_days') }}

),

milestones as (

    select * from {{ ref('int_lead_milestones') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

-- int_lead_activity_daily is imported once per reader with the columns that
-- reader needs: one import CTE read by every join would first be materialized
-- whole.
{%- for days in looked_up %}

    -- the running totals looked up {{ days }} days before snapshot_at
    daily_totals_{{ days }}d as (

        select
            {%- if days == 0 %}
                {%- for name in recencies %}
                    last_{{ name }}_to_date_at,
                {%- endfor %}
                max_burst_engaged_events_3d_to_date,
                max_burst_ended_at,
                last_occurred_at,
            {%- endif %}
            {%- for signal in looked_up[days] %}
                {{ signal }}_to_date,
            {%- endfor %}
            lead_id,
            activity_date

        from {{ ref('int_lead_activity_daily') }}

    ),
{%- endfor %}

partial_windows as (

    -- the partial day before each window start of the scoring snapshot, one row per snapshot
    select
        {%- for signal, days in partial_columns %}
            max({{ signal }}) filter (where window_days = {{ days }}) as {{ signal }}_partial_{{ days }}d,
        {%- endfor %}
        lead_id,
        snapshot_at

    from partial_days
    group by lead_id, snapshot_at

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
                {#- total as of the end (0: snapshot_at) minus total as of the start (none: creation) -#}
                {%- set end_days, begin_days = window_bounds(window) %}
                coalesce(as_of_{{ end_days }}d.{{ signal }}_to_date, 0)
                {%- if end_days %} + coalesce(partial_windows.{{ signal }}_partial_{{ end_days }}d, 0){% endif %}
                {%- if begin_days %}
                    - coalesce(as_of_{{ begin_days }}d.{{ signal }}_to_date, 0)
                    - coalesce(partial_windows.{{ signal }}_partial_{{ begin_days }}d, 0)
                {%- endif %}
                    as {{ signal }}_{{ window }},
            {%- endfor %}
        {%- endfor %}
        {%- for name in recencies %}
            as_of_0d.last_{{ name }}_to_date_at as last_{{ name }}_at,
        {%- endfor %}
        coalesce(as_of_0d.max_burst_engaged_events_3d_to_date, 0) as max_day_burst_engaged_events_3d,
        as_of_0d.max_burst_ended_at,
        as_of_0d.last_occurred_at as last_activity_at,
        matched.last_touch_at,
        matched.last_touch_channel

    -- narrowest payload first: the columns a join adds are carried through the joins after it
    from snapshots as matched
    left join partial_windows
        on
            matched.lead_id = partial_windows.lead_id
            and matched.snapshot_at = partial_windows.snapshot_at
    {%- for days in joins_by_payload %}
        left join daily_totals_{{ days }}d as as_of_{{ days }}d
            on
                matched.lead_id = as_of_{{ days }}d.lead_id
                and matched.matched_{{ days }}d_activity_date = as_of_{{ days }}d.activity_date
    {%- endfor %}
    left join daily_totals_0d as as_of_0d
        on
            matched.lead_id = as_of_0d.lead_id
            and matched.matched_0d_activity_date = as_of_0d.activity_date

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
        case when sessions_total > 0 then cast(page_views_total as double) / sessions_total end as pages_per_session,
        case
            when sessions_total > 0 then cast(time_on_site_seconds_total as double) / sessions_total
        end as seconds_per_session,
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
        case
            when max_burst_engaged_events_3d > 0
                then cast(engaged_events_3d as double) / max_burst_engaged_events_3d
        end as engaged_events_3d_vs_max_burst,

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
