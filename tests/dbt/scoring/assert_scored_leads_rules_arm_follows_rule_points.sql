-- The rules arm of the A/B test (experiment_arm 'rules') is ranked by the rule
-- points, as the model arm is by the probability: lead_priority is
-- non-decreasing in rule_points and reaches 100; a better band never holds
-- fewer points than a worse one; and each band holds the share of the arm's
-- leads it holds in the model arm (cumulative counts A, A-B, A-C equal to
-- round(cumulative model-arm share x rules-arm leads)). Returns the failing
-- checks; passes trivially when no experiment runs (no rules arm).

with

scored as (

    select * from {{ ref('scored_leads') }}

),

scores as (

    select * from {{ ref('ml_scores') }}

),

with_points as (

    select
        scored.lead_id,
        scored.experiment_arm,
        scored.lead_priority,
        scored.score_band,
        scores.rule_points

    from scored
    inner join scores
        on scored.lead_id = scores.lead_id

),

rules_arm as (

    select * from with_points
    where experiment_arm = 'rules'

),

point_levels as (

    select
        rule_points,
        min(lead_priority) as min_priority,
        max(lead_priority) as max_priority

    from rules_arm
    group by rule_points

),

ordered_levels as (

    select
        rule_points,
        min_priority,
        lag(max_priority) over (order by rule_points) as max_priority_below,
        max(max_priority) over () as top_priority

    from point_levels

),

priority_errors as (

    select
        'priority not non-decreasing in rule_points' as failure,
        cast(rule_points as {{ dbt.type_string() }}) as detail

    from ordered_levels
    where min_priority < max_priority_below or top_priority != 100

),

band_points as (

    select
        score_band,
        min(rule_points) as min_points,
        max(rule_points) as max_points

    from rules_arm
    group by score_band

),

band_order_errors as (

    select
        'a better band holds fewer rule points than a worse one' as failure,
        better.score_band || ' < ' || worse.score_band as detail

    from band_points as better
    inner join band_points as worse
        on better.score_band < worse.score_band
    where better.min_points < worse.max_points

),

bands as (

    select bands.band from (values ('A'), ('B'), ('C')) as bands (band)

),

cumulative as (

    select
        bands.band,
        count(*) filter (where with_points.experiment_arm = 'rules') as rules_leads,
        count(*) filter (
            where with_points.experiment_arm = 'rules' and with_points.score_band <= bands.band
        ) as rules_leads_up_to_band,
        count(*) filter (where with_points.experiment_arm = 'model') as model_leads,
        count(*) filter (
            where with_points.experiment_arm = 'model' and with_points.score_band <= bands.band
        ) as model_leads_up_to_band

    from bands
    cross join with_points
    group by bands.band

),

band_share_errors as (

    select
        'rules-arm band counts differ from the model arm shares' as failure,
        band
        || ': ' || cast(rules_leads_up_to_band as {{ dbt.type_string() }})
        || ' of ' || cast(rules_leads as {{ dbt.type_string() }})
        || ' vs model ' || cast(model_leads_up_to_band as {{ dbt.type_string() }})
        || ' of ' || cast(model_leads as {{ dbt.type_string() }})
            as detail

    from cumulative
    where
        rules_leads > 0
        and model_leads > 0
        and rules_leads_up_to_band
        != round(rules_leads * (cast(model_leads_up_to_band as double) / nullif(model_leads, 0)))

),

validation_errors as (

    select * from priority_errors
    union all
    select * from band_order_errors
    union all
    select * from band_share_errors

)

select * from validation_errors
