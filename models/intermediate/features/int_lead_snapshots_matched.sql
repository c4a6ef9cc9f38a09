-- One row per lead and snapshot_at (the snapshots of int_lead_snapshots_gridded,
-- with their labels): for the snapshot and for each window start snapshot_at - N
-- days (macro window_start_days), the lead's latest active day of
-- int_lead_activity_daily on or before the day to look up, i.e. the row whose
-- running totals hold then (null: no activity yet); and the lead's last
-- marketing touch as of the snapshot's day. fct_lead_features joins the running
-- totals to these days by equality.
-- The day looked up for the snapshot itself is activity_date(snapshot_at): for a
-- midnight the days up to it hold exactly the events at or before it, and the
-- scoring time's day holds nothing after it (nothing later is staged). For a
-- window start T it is the last UTC day ending at or before T; the rest of T's
-- own day is in int_lead_activity_partial_days.
-- All lookups are matched in one as-of join over a long list (snapshot x
-- lookup) and pivoted back: an as-of join per window would sort every snapshot
-- once per window.
--
-- Incremental (doc `incremental_feature_snapshots`): a run computes the snapshots
-- int_lead_feature_recompute recomputes and appends them; the pre-hook deletes
-- the stored rows that are not final. The table holds every snapshot, as a full
-- build does.

{{ config(
    materialized='incremental',
    incremental_strategy=feature_snapshot_strategy(),
    full_refresh=rebuilds_in_full(),
    on_schema_change='fail',
    pre_hook=["{{ feature_recompute_delete() }}"],
    post_hook=["{{ relabel_kept_snapshots() }}", "{{ feature_snapshot_stamp() }}"]
) }}

{%- set lookup_days = [0] + window_start_days() %}

with

snapshots as (

    {{ recomputed_snapshots(ref('int_lead_snapshots_gridded')) }}

),

snapshot_keys as (

    {{ recomputed_snapshots(ref('int_lead_snapshots_gridded'), ['lead_id', 'snapshot_at']) }}

),

active_days as (

    select
        lead_id,
        activity_date

    from {{ ref('int_lead_activity_daily') }}

),

touch_days as (

    select
        lead_id,
        activity_date,
        last_touch_at,
        last_touch_channel

    from {{ ref('int_lead_activity_daily') }}
    where last_touch_at is not null

),

lookup_offsets as (

    select lookup_offsets.lookup_days
    from (values ({{ lookup_days | join('), (') }})) as lookup_offsets (lookup_days)

),

lookups as (

    select
        snapshot_keys.lead_id,
        snapshot_keys.snapshot_at,
        lookup_offsets.lookup_days,
        case
            when lookup_offsets.lookup_days = 0 then {{ activity_date('snapshot_keys.snapshot_at') }}
            else cast(
                {{ dbt.dateadd(
                    'day', '-(lookup_offsets.lookup_days + 1)', dbt.date_trunc('day', 'snapshot_keys.snapshot_at')
                ) }} as date
            )
        end as lookup_date

    from snapshot_keys
    cross join lookup_offsets

),

matched as (

    {{ asof_join(
        'lookups', 'active_days', 'lead_id', 'lookups.lookup_date', 'activity_date',
        ['activity_date'], 'matched_'
    ) }}

),

matched_days as (

    select
        {%- for days in lookup_days %}
            max(matched_activity_date) filter (where lookup_days = {{ days }}) as matched_{{ days }}d_activity_date,
        {%- endfor %}
        lead_id,
        snapshot_at

    from matched
    group by lead_id, snapshot_at

),

snapshot_days as (

    select
        *,
        {{ activity_date('snapshot_at') }} as as_of_date

    from snapshots

),

-- the lead's last marketing touch on or before the snapshot's day
snapshot_touches as (

    {{ asof_join(
        'snapshot_days', 'touch_days', 'lead_id', 'snapshot_days.as_of_date', 'activity_date',
        ['last_touch_at', 'last_touch_channel']
    ) }}

),

final as (

    select
        snapshot_touches.lead_id,
        snapshot_touches.snapshot_at,
        snapshot_touches.is_scoring_snapshot,
        snapshot_touches.grid_snapshot_number,
        snapshot_touches.grid_offset_days,
        snapshot_touches.created_at,
        snapshot_touches.label_is_known,
        snapshot_touches.label_converted_in_horizon,
        snapshot_touches.label_converted_at,
        snapshot_touches.label_days_to_conversion,
        snapshot_touches.as_of_date,
        {%- for days in lookup_days %}
            matched_days.matched_{{ days }}d_activity_date,
        {%- endfor %}
        snapshot_touches.last_touch_at,
        snapshot_touches.last_touch_channel

    from snapshot_touches
    inner join matched_days
        on
            snapshot_touches.lead_id = matched_days.lead_id
            and snapshot_touches.snapshot_at = matched_days.snapshot_at

)

select * from final
