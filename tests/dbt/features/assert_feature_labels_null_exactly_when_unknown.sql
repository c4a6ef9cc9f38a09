-- The label is null exactly when snapshot_at + horizon is after the scoring
-- time; once known it is 1 exactly when the lead's first conversion falls in
-- (snapshot_at, snapshot_at + horizon]. Returns the rows breaking either rule.

{%- set horizon_days = var('prediction_horizon_days') | int %}

with

features as (

    select * from {{ ref('fct_lead_features') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

expected as (

    select
        features.lead_id,
        features.snapshot_at,
        features.label_converted_in_horizon,
        features.label_is_known,
        {{ dbt.dateadd('day', horizon_days, 'features.snapshot_at') }} <= {{ scoring_at() }} as is_known,
        conversions.converted_at > features.snapshot_at
        and conversions.converted_at <= {{ dbt.dateadd('day', horizon_days, 'features.snapshot_at') }}
            as is_converted_in_horizon

    from features
    left join conversions
        on features.lead_id = conversions.lead_id

),

validation_errors as (

    select * from expected
    where
        (label_converted_in_horizon is null) = is_known
        or label_is_known <> is_known
        or (
            is_known
            and label_converted_in_horizon <> case when coalesce(is_converted_in_horizon, false) then 1 else 0 end
        )

)

select * from validation_errors
