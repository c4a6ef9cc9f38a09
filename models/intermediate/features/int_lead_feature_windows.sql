-- One row per lead and snapshot_at (the grid of int_lead_snapshots_matched):
-- every windowed activity count of macro lead_activity_signals as of
-- snapshot_at, the last time of each recency kind (macro
-- lead_activity_recencies), the strongest 3-UTC-day burst up to the snapshot's
-- day, the last activity and the last marketing touch, with the label columns
-- carried through. The as-of window joins of fct_lead_features, which adds the
-- lead's attributes, milestones and the derived features.
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
-- and joined here by equality. Ephemeral: the mart reads it once, so it is
-- part of the mart's query rather than a second wide table.

-- depends_on: {{ ref('stg_crm__leads') }}
{{ config(materialized='ephemeral') }}

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

with

-- the snapshots this run computes (int_lead_feature_recompute; every one in a full build)
snapshots as (

    {{ recomputed_snapshots(ref('int_lead_snapshots_matched')) }}
    {{ lead_bucket_filter('snapshots.lead_id', 'and', for_model='fct_lead_features') }}

),

partial_days as (

    {{ recomputed_snapshots(ref('int_lead_activity_partial_days')) }}
    {{ lead_bucket_filter('snapshots.lead_id', 'and', for_model='fct_lead_features') }}

),

-- the lead's activity days up to each day as one hash (macro lead_activity_day_hash):
-- the activity part of fct_lead_features.input_fingerprint_id
daily_fingerprints as (

    select
        daily.lead_id,
        daily.activity_date,
        bit_xor({{ lead_activity_day_hash('daily') }}) over (
            partition by daily.lead_id order by daily.activity_date
        ) as activity_to_date_hash

    from {{ ref('int_lead_activity_daily') }} as daily
    {{ lead_bucket_filter('daily.lead_id', for_model='fct_lead_features') }}

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
        {{ lead_bucket_filter('lead_id', for_model='fct_lead_features') }}

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
        matched.last_touch_channel,
        activity.activity_to_date_hash

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
    left join daily_fingerprints as activity
        on
            matched.lead_id = activity.lead_id
            and matched.matched_0d_activity_date = activity.activity_date

)

select * from windows
