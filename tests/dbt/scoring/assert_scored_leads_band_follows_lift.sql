-- score_band is consistent with lift: the bands are lift ranges (A at least
-- band_lift_multiples A times the base rate, then B, C, D), so every lead of a
-- better band has a higher lift than every lead of a worse band. Returns the
-- pairs of bands whose lift ranges overlap the wrong way. During an A/B test
-- only the model arm's bands are lift ranges (every lead is in it when none
-- runs); the rules arm's are checked by
-- assert_scored_leads_rules_arm_follows_rule_points.

with

scored as (

    select * from {{ ref('scored_leads') }}

),

model_arm as (

    select * from scored
    where experiment_arm = 'model'

),

bands as (

    select
        score_band,
        min(lift) as min_lift,
        max(lift) as max_lift

    from model_arm
    group by score_band

),

validation_errors as (

    select
        better.score_band as better_band,
        worse.score_band as worse_band,
        better.min_lift as better_min_lift,
        worse.max_lift as worse_max_lift

    from bands as better
    inner join bands as worse
        on better.score_band < worse.score_band
    where better.min_lift <= worse.max_lift

)

select * from validation_errors
