-- The portable as-of join (macro window_asof_join: union + running max, for
-- engines without ASOF such as Spark) gives the same matches as the native
-- one (macro asof_join) on a sample of snapshots. Returns the differences.

with

sample_leads as (

    select lead_id from {{ ref('stg_crm__leads') }}
    order by lead_id
    limit 500

),

lookups as (

    select
        features.lead_id,
        features.snapshot_at,
        {{ activity_date('features.snapshot_at') }} as as_of_date

    from {{ ref('fct_lead_features') }} as features
    inner join sample_leads
        on features.lead_id = sample_leads.lead_id

),

active_days as (

    select
        daily.lead_id,
        daily.activity_date,
        daily.events_to_date

    from {{ ref('int_lead_activity_daily') }} as daily
    inner join sample_leads
        on daily.lead_id = sample_leads.lead_id

),

native as (

    {{ asof_join(
        'lookups', 'active_days', 'lead_id', 'lookups.as_of_date', 'activity_date',
        ['activity_date', 'events_to_date'], 'matched_'
    ) }}

),

portable as (

    {{ window_asof_join(
        'lookups', 'active_days', 'lead_id', 'lookups.as_of_date', 'activity_date',
        ['activity_date', 'events_to_date'], 'matched_'
    ) }}

),

validation_errors as (

    select
        coalesce(native.lead_id, portable.lead_id) as lead_id,
        coalesce(native.snapshot_at, portable.snapshot_at) as snapshot_at,
        native.matched_activity_date as native_activity_date,
        portable.matched_activity_date as portable_activity_date

    from native
    full outer join portable
        on
            native.lead_id = portable.lead_id
            and native.snapshot_at = portable.snapshot_at
    where
        native.lead_id is null
        or portable.lead_id is null
        or coalesce(native.matched_activity_date <> portable.matched_activity_date, true)
        and not (native.matched_activity_date is null and portable.matched_activity_date is null)
        or coalesce(native.matched_events_to_date <> portable.matched_events_to_date, false)

)

select * from validation_errors
