-- Every lead not converted by the scoring time has exactly one scoring
-- snapshot, at the scoring time; a converted lead has none. Returns the
-- leads breaking the rule.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

scoring_snapshots as (

    select
        lead_id,
        count(*) as scoring_snapshot_count,
        min(snapshot_at) as snapshot_at

    from {{ ref('fct_lead_features') }}
    where is_scoring_snapshot
    group by lead_id

),

validation_errors as (

    select
        leads.lead_id,
        conversions.converted_at,
        scoring_snapshots.scoring_snapshot_count,
        scoring_snapshots.snapshot_at

    from leads
    left join conversions
        on leads.lead_id = conversions.lead_id
    left join scoring_snapshots
        on leads.lead_id = scoring_snapshots.lead_id
    where
        case
            when conversions.converted_at <= {{ scoring_at() }}
                then scoring_snapshots.lead_id is not null
            else
                coalesce(scoring_snapshots.scoring_snapshot_count, 0) <> 1
                or scoring_snapshots.snapshot_at <> {{ scoring_at() }}
        end

)

select * from validation_errors
