-- One row per lead and UTC activity day with any activity: what the lead did
-- that day (additive counts per signal: list in macro lead_activity_signals,
-- definitions in macro lead_activity_signal_definitions) and running totals
-- since the lead was created (<signal>_to_date); the last event of each kind
-- up to the day (last_<kind>_to_date_at, macro lead_activity_recencies); and
-- the strongest burst of engaged events in 3 consecutive UTC days up to the day.
-- The base of every windowed feature: fct_lead_features takes a window as the
-- difference of two running totals found with as-of joins, so events are
-- aggregated once, never per snapshot. A day is (midnight, next midnight]: see
-- macro activity_date. Also the day's last marketing touch.

--
-- Incremental (doc `incremental_ledger`): a run recomputes, whole, the leads
-- int_touchpoints_sessionized rewrote since this table's latest
-- source_loaded_at (macro rewritten_leads; unique_key lead_id); a lead left
-- with no event loses its rows (post-hook). A full build runs a bucket of leads at a time when the data
-- is large (macro lead_bucket_count; the first post-hook inserts the buckets
-- after the first).

-- depends_on: {{ ref('stg_crm__leads') }}

{{ config(
    materialized='incremental',
    incremental_strategy=incremental_strategy(),
    unique_key='lead_id',
    on_schema_change='fail',
    full_refresh=rebuilds_in_full(),
    post_hook=[
        "{{ insert_remaining_lead_buckets() }}",
        "{% if is_incremental() %}delete from {{ this }} where lead_id not in (select touchpoints.lead_id from {{ ref('int_touchpoints_sessionized') }} as touchpoints){% endif %}"
    ]
) }}

{%- set signals = lead_activity_signals().keys() | list %}
{%- set definitions = lead_activity_signal_definitions() %}
{%- set recencies = lead_activity_recencies() %}
{#- the CTE holding each source's daily counts (sources: macro lead_activity_signal_definitions) -#}
{%- set source_ctes = {
    'events': 'daily_events',
    'touches': 'daily_touches',
    'first_asset_downloads': 'first_asset_downloads',
    'first_case_study_views': 'first_case_study_views',
    'first_channel_touches': 'first_channel_touches',
} %}

with

{%- if is_incremental() %}

batch_leads as (

    {{ rewritten_leads(ref('int_touchpoints_sessionized')) }}

),

{%- endif %}

events as (

    select * from {{ ref('int_lead_activity_events') }}
    {{ incremental_batch_filter('lead_id') }}{{ lead_bucket_filter('lead_id') }}

),

-- the two small subsets below are imported apart, filtered, so that the
-- touchpoints are scanned in a stream rather than materialized for three readers
content_downloads as (

    select * from {{ ref('int_touchpoints_sessionized') }}
    where event_type = 'content_download' and asset_name is not null
    {{ incremental_batch_filter('lead_id', 'and') }}{{ lead_bucket_filter('lead_id', 'and') }}

),

case_study_views as (

    select * from {{ ref('int_touchpoints_sessionized') }}
    where event_type = 'page_view' and page_type = 'case_study'
    {{ incremental_batch_filter('lead_id', 'and') }}{{ lead_bucket_filter('lead_id', 'and') }}

),

touches as {{ inline_cte() }} (

    select * from {{ ref('int_marketing_touches') }}
    {{ incremental_batch_filter('lead_id') }}{{ lead_bucket_filter('lead_id') }}

),

daily_events as (

    select
        lead_id,
        activity_date,
        {%- for signal in signals if definitions[signal][0] == 'events' %}
            {{ definitions[signal][1] }} as {{ signal }},
        {%- endfor %}
        {%- for name, recency in recencies.items() %}
            max(occurred_at) filter (where {{ recency.condition }}) as last_{{ name }}_at,
        {%- endfor %}
        max(occurred_at) as last_occurred_at,
        max(source_loaded_at) as source_loaded_at

    from events
    group by lead_id, activity_date

),

first_asset_downloads as (

    -- the day each distinct asset was first downloaded: their running total is
    -- the number of distinct assets downloaded to date
    {{ lead_first_occurrences_by_day('first_asset_downloads', 'content_downloads', 'asset_name') }}

),

first_case_study_views as (

    {{ lead_first_occurrences_by_day('first_case_study_views', 'case_study_views', 'page_path') }}

),

daily_touches as (

    select
        lead_id,
        {{ activity_date('occurred_at') }} as activity_date,
        {%- for signal in signals if definitions[signal][0] == 'touches' %}
            {{ definitions[signal][1] }} as {{ signal }},
        {%- endfor %}
        max(occurred_at) as last_touch_at,
        max_by(channel, touch_number) as last_touch_channel

    from touches
    group by lead_id, {{ activity_date('occurred_at') }}

),

first_channel_touches as (

    {{ lead_first_occurrences_by_day('first_channel_touches', 'touches', 'channel') }}

),

daily as (

    -- every touch, first download and first case-study view is an event, so
    -- its day is a day of daily_events
    select
        daily_events.lead_id,
        daily_events.activity_date,
        -- whole days since 1970-01-01: the order of the bursts' 3-day spans below
        {{ dbt.datediff("cast('1970-01-01' as date)", 'daily_events.activity_date', 'day') }}
            as day_number,
        {%- for signal in signals %}
            {%- set source = definitions[signal][0] %}
            {%- if source not in source_ctes %}
                {{ exceptions.raise_compiler_error(
                    "int_lead_activity_daily: signal " ~ signal ~ " has unknown source " ~ source
                ) }}
            {%- endif %}
            cast(coalesce({{ source_ctes[source] }}.{{ signal }}, 0) as {{ lead_activity_signal_type(signal) }})
                as {{ signal }},
        {%- endfor %}
        {%- for name in recencies %}
            daily_events.last_{{ name }}_at,
        {%- endfor %}
        daily_events.last_occurred_at,
        daily_events.source_loaded_at,
        daily_touches.last_touch_at,
        daily_touches.last_touch_channel

    from daily_events
    left join first_asset_downloads
        on
            daily_events.lead_id = first_asset_downloads.lead_id
            and daily_events.activity_date = first_asset_downloads.activity_date
    {%- for joined in ['first_case_study_views', 'daily_touches', 'first_channel_touches'] %}
        left join {{ joined }}
            on
                daily_events.lead_id = {{ joined }}.lead_id
                and daily_events.activity_date = {{ joined }}.activity_date
    {%- endfor %}

),

running_totals as (

    select
        lead_id,
        activity_date,
        day_number,
        {%- for signal in signals %}
            {{ signal }},
        {%- endfor %}
        {%- for signal in signals %}
            cast(sum({{ signal }}) over lead_days as {{ lead_activity_signal_type(signal) }})
                as {{ signal }}_to_date,
        {%- endfor %}
        {%- for name in recencies %}
            -- the day's last times only grow, so the last one seen is the running max
            {{ last_non_null_value('last_' ~ name ~ '_at', 'lead_id', 'day_number', frame=none) }}
                as last_{{ name }}_to_date_at,
        {%- endfor %}
        last_occurred_at,
        last_touch_at,
        last_touch_channel,
        source_loaded_at

    from daily
    -- one row per lead and day: the default frame (up to the current day) is the
    -- running total, computed faster than an explicit rows frame
    window lead_days as (partition by lead_id order by day_number)

),

-- The bursts run on narrow rows (lead, day, engaged events) and are joined
-- back: window operators carrying every running total are several times slower.

burst_days as (

    select
        lead_id,
        day_number,
        last_engaged_event_at,
        -- engaged events in the 3 UTC days ending with this one (this day and the
        -- two rows before it when they are within 2 days), on days with an
        -- engaged event: the strongest 3-day span always ends on such a day
        case
            when engaged_events > 0
                then
                    engaged_events
                    + case
                        when lag(day_number, 1) over lead_days >= day_number - 2
                            then lag(engaged_events, 1) over lead_days
                        else 0
                    end
                    + case
                        when lag(day_number, 2) over lead_days >= day_number - 2
                            then lag(engaged_events, 2) over lead_days
                        else 0
                    end
        end as burst_engaged_events_3d

    from daily
    window lead_days as (partition by lead_id order by day_number)

),

burst_ends as (

    select
        lead_id,
        day_number,
        coalesce(max(burst_engaged_events_3d) over lead_days, 0) as max_burst_engaged_events_3d_to_date,
        -- the last engaged event of the strongest burst so far, the latest day on
        -- ties: the key orders by burst, then by day (days without an engaged
        -- event rank below every burst)
        max_by(
            last_engaged_event_at,
            coalesce(burst_engaged_events_3d, -1) * 1000000 + day_number
        ) over lead_days as max_burst_ended_at

    from burst_days
    window lead_days as (partition by lead_id order by day_number)

),

final as (

    select
        running_totals.lead_id,
        running_totals.activity_date,
        {%- for signal in signals %}
            running_totals.{{ signal }},
        {%- endfor %}
        {%- for signal in signals %}
            running_totals.{{ signal }}_to_date,
        {%- endfor %}
        {%- for name in recencies %}
            running_totals.last_{{ name }}_to_date_at,
        {%- endfor %}
        burst_ends.max_burst_engaged_events_3d_to_date,
        burst_ends.max_burst_ended_at,
        running_totals.last_occurred_at,
        running_totals.last_touch_at,
        running_totals.last_touch_channel,
        running_totals.source_loaded_at

    from running_totals
    inner join burst_ends
        on
            running_totals.lead_id = burst_ends.lead_id
            and running_totals.day_number = burst_ends.day_number

)

select * from final
