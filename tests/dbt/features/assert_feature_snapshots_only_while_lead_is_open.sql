-- A lead converted at or before snapshot_at is not open: it has no snapshot then.
-- Returns the offending snapshots.

with

features as (

    select * from {{ ref('fct_lead_features') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

validation_errors as (

    select
        features.lead_id,
        features.snapshot_at,
        conversions.converted_at

    from features
    inner join conversions
        on features.lead_id = conversions.lead_id
    where conversions.converted_at <= features.snapshot_at

)

select * from validation_errors
