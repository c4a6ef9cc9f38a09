-- lead_priority is non-decreasing in conversion_probability: no lead may have a
-- lower priority than a lead with a smaller probability, and the best lead of
-- the run has priority 100. Returns the offending probability levels (with the
-- previous, smaller, level whose priority reaches above theirs). During an A/B
-- test only the model arm ranks by the probability (every lead is in it when
-- none runs); the rules arm is checked by
-- assert_scored_leads_rules_arm_follows_rule_points.

with

scored as (

    select * from {{ ref('scored_leads') }}

),

model_arm as (

    select * from scored
    where experiment_arm = 'model'

),

levels as (

    select
        conversion_probability,
        min(lead_priority) as min_priority,
        max(lead_priority) as max_priority

    from model_arm
    group by conversion_probability

),

ordered as (

    select
        conversion_probability,
        min_priority,
        max_priority,
        lag(max_priority) over (
            order by conversion_probability
        ) as max_priority_below,
        max(max_priority) over () as top_priority

    from levels

),

validation_errors as (

    select *

    from ordered
    where
        min_priority < max_priority_below
        or top_priority != 100

)

select * from validation_errors
