-- lead_priority is non-decreasing in conversion_probability: no lead may have a
-- lower priority than a lead with a smaller probability, and the best lead of
-- the run has priority 100. Returns the offending probability levels (with the
-- previous, smaller, level whose priority reaches above theirs).

with

scored as (

    select * from {{ ref('scored_leads') }}

),

levels as (

    select
        conversion_probability,
        min(lead_priority) as min_priority,
        max(lead_priority) as max_priority

    from scored
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
