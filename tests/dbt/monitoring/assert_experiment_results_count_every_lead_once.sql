-- ml_experiment_results counts every lead of an experiment's matured runs
-- once, at its first matured run: per experiment and arm, the band rows add up
-- to the distinct leads of scored_leads_history in the experiment's runs whose
-- horizon has passed, and their conversions to those leads whose first
-- conversion fell within the horizon of that first run (recounted here from
-- the history and the conversions); the top 10% never holds more leads than
-- the top 20%, nor the top 20% more than the arm.

with

results as (

    select * from {{ ref('ml_experiment_results') }}

),

history as (

    select * from {{ ref('scored_leads_history') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

first_runs as (

    -- each lead's first matured run of the experiment, and its arm then
    select
        experiment_name,
        lead_id,
        min(scored_at) as first_scored_at,
        min_by(experiment_arm, scored_at) as experiment_arm

    from history
    where
        experiment_name is not null
        and {{ dbt.dateadd('day', var('prediction_horizon_days'), 'scored_at') }} <= {{ scoring_at() }}
    group by experiment_name, lead_id

),

expected as (

    select
        first_runs.experiment_name,
        first_runs.experiment_arm,
        count(*) as leads,
        count(conversions.lead_id) as conversions

    from first_runs
    left join conversions
        on
            first_runs.lead_id = conversions.lead_id
            and first_runs.first_scored_at < conversions.converted_at
            and {{ dbt.dateadd('day', var('prediction_horizon_days'), 'first_runs.first_scored_at') }}
            >= conversions.converted_at
    group by first_runs.experiment_name, first_runs.experiment_arm

),

actual as (

    select
        experiment_name,
        'model' as experiment_arm,
        sum(model_leads) filter (where segment_type = 'band') as leads,
        sum(model_conversions) filter (where segment_type = 'band') as conversions,
        max(model_leads) filter (where segment = 'top_10pct') as top_10pct_leads,
        max(model_leads) filter (where segment = 'top_20pct') as top_20pct_leads

    from results
    group by experiment_name

    union all

    select
        experiment_name,
        'rules' as experiment_arm,
        sum(rules_leads) filter (where segment_type = 'band') as leads,
        sum(rules_conversions) filter (where segment_type = 'band') as conversions,
        max(rules_leads) filter (where segment = 'top_10pct') as top_10pct_leads,
        max(rules_leads) filter (where segment = 'top_20pct') as top_20pct_leads

    from results
    group by experiment_name

),

validation_errors as (

    select
        coalesce(expected.experiment_name, actual.experiment_name) as experiment_name,
        coalesce(expected.experiment_arm, actual.experiment_arm) as experiment_arm,
        expected.leads as expected_leads,
        actual.leads,
        expected.conversions as expected_conversions,
        actual.conversions,
        actual.top_10pct_leads,
        actual.top_20pct_leads

    from expected
    full outer join actual
        on
            expected.experiment_name = actual.experiment_name
            and expected.experiment_arm = actual.experiment_arm
    where
        coalesce(expected.leads, 0) != coalesce(actual.leads, 0)
        or coalesce(expected.conversions, 0) != coalesce(actual.conversions, 0)
        or actual.top_10pct_leads > actual.top_20pct_leads
        or actual.top_20pct_leads > actual.leads

)

select * from validation_errors
