-- Grid snapshots sit at date_trunc('day', created_at) + (1 + offset + k x
-- snapshot_interval_days) days, offset = stable_hash_bucket(lead_id,
-- snapshot_interval_days) (checked against md5 itself by
-- assert_stable_hash_bucket_matches_md5 and the pytest e2e), and a lead has
-- every k while it is open and before the scoring time: none missing, none
-- extra. Returns the leads whose grid differs from the one the rule gives.

{%- set interval_days = var('snapshot_interval_days') | int %}

with

grid as (

    select
        *,
        {{ dbt.date_trunc('day', 'created_at') }} as created_day_at,
        {{ stable_hash_bucket('lead_id', interval_days) }} as grid_offset_days

    from {{ ref('fct_lead_features') }}
    where not is_scoring_snapshot

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

grid_counts as (

    select
        lead_id,
        count(*) as grid_snapshot_count

    from grid
    group by lead_id

),

misplaced as (

    -- a grid time off the lead's anchor
    select
        lead_id,
        'off the anchor' as failure

    from grid
    where
        mod(
            cast({{ seconds_between('created_day_at', 'snapshot_at') }} / 86400 as bigint) - 1 - grid_offset_days,
            {{ interval_days }}
        ) <> 0
        or snapshot_at <> {{ dbt.date_trunc('day', 'snapshot_at') }}
        or snapshot_at <= created_at
        or snapshot_at < {{ dbt.dateadd('day', '1 + grid_offset_days', 'created_day_at') }}

),

counted as (

    select
        leads.lead_id,
        -- grid times strictly before the conversion and the scoring time
        greatest(
            0,
            cast(
                ceil(
                    {{ seconds_between(
                        dbt.dateadd(
                            'day',
                            '1 + ' ~ stable_hash_bucket('leads.lead_id', interval_days),
                            dbt.date_trunc('day', 'leads.created_at')
                        ),
                        'least(coalesce(conversions.converted_at, ' ~ scoring_at() ~ '), ' ~ scoring_at() ~ ')'
                    ) }} / {{ interval_days * 86400.0 }}
                ) as integer
            )
        ) as expected_count,
        coalesce(grid_counts.grid_snapshot_count, 0) as actual_count

    from leads
    left join conversions
        on leads.lead_id = conversions.lead_id
    left join grid_counts
        on leads.lead_id = grid_counts.lead_id

),

validation_errors as (

    select * from misplaced
    union all
    select
        lead_id,
        'expected ' || cast(expected_count as {{ dbt.type_string() }})
        || ' grid snapshots, found ' || cast(actual_count as {{ dbt.type_string() }}) as failure
    from counted
    where expected_count <> actual_count

)

select * from validation_errors
