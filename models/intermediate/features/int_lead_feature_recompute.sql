-- One row per lead (of stg_crm__leads, or stored in fct_lead_features): which of
-- its feature snapshots this run recomputes. The one decision of the
-- incremental feature snapshots (doc `incremental_feature_snapshots`):
-- int_lead_snapshots_matched, int_lead_activity_partial_days and
-- fct_lead_features compute the snapshots at or after the lead's
-- recompute_from_at (null: all of them), their pre-hook (macro
-- feature_recompute_delete) deletes every stored row that is not before it, and
-- the post-hook of the two tables with labels (macro relabel_kept_snapshots)
-- gives the kept rows at or after relabel_from_at this run's labels (gridded).
--
-- Hidden dependency: an incremental run reads the fct_lead_features an earlier
-- run stored (macro previous_lead_features: adapter.get_relation, since a ref
-- would be a cycle). A stored grid snapshot before this scoring time is kept
-- unless its lead changed (a late event of any age changes the lead's
-- fingerprint): the lead is new or gone, has no stored grid snapshot, or at its
-- last stored grid snapshot the fingerprint of its inputs (macro
-- lead_snapshot_fingerprint: its staged row, activity days, milestones, the
-- feature vars and definitions) or its first conversion (label_converted_at)
-- differs from the stored one. Only the labels of a kept snapshot read the
-- scoring time: with H = var prediction_horizon_days, those before the cut
-- least(previous scoring time, this scoring time) - H days are final, the later
-- ones are recomputed. On --full-refresh, without a stored table, on the lint
-- target, and when the snapshot tables were written by different runs every
-- snapshot is recomputed.

-- depends_on: {{ ref('int_lead_activity_daily') }}
-- depends_on: {{ ref('int_lead_milestones') }}

{%- set previous = previous_lead_features() %}
{%- set horizon_days = var('prediction_horizon_days') | int %}
{%- set kept = 'not is_scoring_snapshot and snapshot_at < ' ~ scoring_at() %}

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

lead_fingerprints as (

    select
        leads.lead_id,
        -- the whole staged row (a new form submission changes the latest version) and what
        -- defines a snapshot besides the data; the conversion, read by the labels only, is
        -- compared apart (with the stored label_converted_at) so that the fingerprint, like
        -- every column but the labels, reads nothing dated after snapshot_at
        {{ row_hash('leads', "'" ~ feature_definitions_hash() ~ "'") }} as lead_fingerprint_id,
        conversions.converted_at

    from leads
    left join conversions
        on leads.lead_id = conversions.lead_id

),

{%- if previous is not none %}

daily as (

    select * from {{ ref('int_lead_activity_daily') }}

),

milestones as (

    select * from {{ ref('int_lead_milestones') }}

),

previous_snapshots as (

    select
        lead_id,
        snapshot_at,
        is_scoring_snapshot,
        input_fingerprint_id,
        label_converted_at

    from {{ previous }}

),

cut as (

    -- labels before it are final (known at both scoring times); null when no lead was open
    -- at the previous scoring time: nothing dates that run
    select
        {{ dbt.dateadd(
            'day', -horizon_days, 'least(max(snapshot_at), ' ~ scoring_at() ~ ')'
        ) }} as relabel_from_at

    from previous_snapshots
    where is_scoring_snapshot

),

stored_leads as (

    -- per stored lead, its last stored grid snapshot before this scoring time (null: none;
    -- this run's grid has the same snapshots up to there when the lead is unchanged) and
    -- that snapshot's fingerprint and first conversion
    select
        lead_id,
        max(snapshot_at) filter (where {{ kept }}) as last_kept_snapshot_at,
        max_by(input_fingerprint_id, snapshot_at) filter (where {{ kept }}) as stored_fingerprint_id,
        max_by(label_converted_at, snapshot_at) filter (where {{ kept }}) as stored_converted_at

    from previous_snapshots
    group by lead_id

),

checked_days as (

    -- the activity days up to each lead's last kept snapshot, as one hash
    select
        daily.lead_id,
        bit_xor({{ lead_activity_day_hash('daily') }}) as activity_hash

    from daily
    inner join stored_leads
        on daily.lead_id = stored_leads.lead_id
    where daily.activity_date <= {{ activity_date('stored_leads.last_kept_snapshot_at') }}
    group by daily.lead_id

),

checked as (

    select
        stored_leads.lead_id,
        stored_leads.stored_fingerprint_id = {{ lead_snapshot_fingerprint(
            'lead_fingerprints.lead_fingerprint_id', 'checked_days.activity_hash',
            'milestones', 'stored_leads.last_kept_snapshot_at'
        ) }}
        and stored_leads.stored_converted_at is not distinct from lead_fingerprints.converted_at
            as is_unchanged

    from stored_leads
    inner join lead_fingerprints
        on stored_leads.lead_id = lead_fingerprints.lead_id
    left join checked_days
        on stored_leads.lead_id = checked_days.lead_id
    left join milestones
        on stored_leads.lead_id = milestones.lead_id
    where stored_leads.last_kept_snapshot_at is not null

),

{%- endif %}

decided as (

    {%- if previous is none %}

        select
            lead_id,
            lead_fingerprint_id,
            cast(null as timestamp) as recompute_from_at,
            cast(null as timestamp) as relabel_from_at,
            'full build' as recompute_reason

        from lead_fingerprints

    {%- else %}

        select
            coalesce(lead_fingerprints.lead_id, stored_leads.lead_id) as lead_id,
            lead_fingerprints.lead_fingerprint_id,
            -- the instant after the last kept snapshot (timestamps hold microseconds)
            case
                when checked.is_unchanged and cut.relabel_from_at is not null
                    then {{ dbt.dateadd('microsecond', 1, 'stored_leads.last_kept_snapshot_at') }}
            end as recompute_from_at,
            case when checked.is_unchanged then cut.relabel_from_at end as relabel_from_at,
            case
                when stored_leads.lead_id is null then 'not stored'
                when lead_fingerprints.lead_id is null then 'lead gone'
                when checked.lead_id is null then 'no stored grid snapshot'
                when not checked.is_unchanged then 'inputs changed'
                when cut.relabel_from_at is null then 'no lead open at the previous run'
                else 'new snapshots only'
            end as recompute_reason

        from lead_fingerprints
        full join stored_leads
            on lead_fingerprints.lead_id = stored_leads.lead_id
        left join checked
            on stored_leads.lead_id = checked.lead_id
        cross join cut

    {%- endif %}

)

select * from decided
