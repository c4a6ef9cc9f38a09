-- One row per lead, snapshot that is not at a UTC midnight (the scoring
-- snapshot) and window length N (macro window_start_days) with events in the
-- partial day before the window start: the additive signals counted over the
-- lead's events in (the midnight before snapshot_at - N days, snapshot_at - N
-- days]. fct_lead_features adds them to the running total of the last full
-- UTC day before the window start, so that a window is exactly (snapshot_at -
-- N days, snapshot_at] at any time of day. Same definitions as
-- int_lead_activity_daily (macro lead_activity_signal_definitions); empty for
-- midnights, so it costs one small join per open lead, not per snapshot.
--
-- Incremental (doc `incremental_feature_snapshots`): a run computes the snapshots
-- int_lead_feature_recompute recomputes and appends them; the pre-hook deletes
-- the stored rows that are not final.

{{ config(
    materialized='incremental',
    incremental_strategy=feature_snapshot_strategy(),
    full_refresh=rebuilds_in_full(),
    on_schema_change='fail',
    pre_hook=["{{ feature_recompute_delete() }}"],
    post_hook=["{{ feature_snapshot_stamp() }}"]
) }}

{%- set signals = lead_activity_signals() %}
{%- set definitions = lead_activity_signal_definitions() %}
{#- a window start needs the signals that have a window other than 'total' -#}
{%- set windowed = [] %}
{%- for signal, windows in signals.items() if window_start_days(windows) %}
    {%- if definitions[signal][0] not in ['events', 'touches'] %}
        {{ exceptions.raise_compiler_error(
            "int_lead_activity_partial_days: signal " ~ signal ~ " has a window but its source "
            ~ definitions[signal][0] ~ " has no partial-day count; give it one here"
        ) }}
    {%- endif %}
    {%- do windowed.append(signal) %}
{%- endfor %}

with

snapshots as (

    {{ recomputed_snapshots(ref('int_lead_snapshots_gridded')) }}

),

events as (

    select * from {{ ref('int_lead_activity_events') }}

),

touches as (

    select * from {{ ref('int_marketing_touches') }}

),

window_lengths as (

    select window_lengths.window_days
    from (values ({{ window_start_days() | join('), (') }})) as window_lengths (window_days)

),

window_starts as (

    select
        snapshots.lead_id,
        snapshots.snapshot_at,
        window_lengths.window_days,
        {{ dbt.dateadd('day', '-window_lengths.window_days', 'snapshots.snapshot_at') }} as window_start_at

    from snapshots
    cross join window_lengths
    where snapshots.snapshot_at <> {{ dbt.date_trunc('day', 'snapshots.snapshot_at') }}

),

window_start_days as (

    select
        *,
        -- not a midnight: the partial day is (its midnight, window_start_at], all of it in this UTC day
        cast(window_start_at as date) as window_start_date

    from window_starts

),

partial_day_events as (

    select
        events.*,
        window_start_days.snapshot_at,
        window_start_days.window_days,
        window_start_days.window_start_at

    from window_start_days
    inner join events
        on
            window_start_days.lead_id = events.lead_id
            and window_start_days.window_start_date = events.activity_date
            and window_start_days.window_start_at >= events.occurred_at

),

partial_day_touches as (

    select
        touches.*,
        window_start_days.snapshot_at,
        window_start_days.window_days,
        window_start_days.window_start_at

    from window_start_days
    inner join touches
        on
            window_start_days.lead_id = touches.lead_id
            and window_start_days.window_start_date = {{ activity_date('touches.occurred_at') }}
            and window_start_days.window_start_at >= touches.occurred_at

),

event_counts as (

    select
        {%- for signal in windowed if definitions[signal][0] == 'events' %}
            {{ definitions[signal][1] }} as {{ signal }},
        {%- endfor %}
        lead_id,
        snapshot_at,
        window_days,
        window_start_at

    from partial_day_events
    group by lead_id, snapshot_at, window_days, window_start_at

),

touch_counts as (

    select
        {%- for signal in windowed if definitions[signal][0] == 'touches' %}
            {{ definitions[signal][1] }} as {{ signal }},
        {%- endfor %}
        lead_id,
        snapshot_at,
        window_days

    from partial_day_touches
    group by lead_id, snapshot_at, window_days

),

partial_days as (

    -- every touch is an event, so a window start with touches has events
    select
        event_counts.lead_id,
        event_counts.snapshot_at,
        event_counts.window_days,
        {%- for signal in windowed %}
            {%- set source = 'event_counts' if definitions[signal][0] == 'events' else 'touch_counts' %}
            cast(coalesce({{ source }}.{{ signal }}, 0) as {{ lead_activity_signal_type(signal) }}) as {{ signal }},
        {%- endfor %}
        event_counts.window_start_at

    from event_counts
    left join touch_counts
        on
            event_counts.lead_id = touch_counts.lead_id
            and event_counts.snapshot_at = touch_counts.snapshot_at
            and event_counts.window_days = touch_counts.window_days

)

select * from partial_days
