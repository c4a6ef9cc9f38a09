-- Warns (every build) when the latest health check requires retraining, with
-- the reasons: what a data team should read first.

{{ config(severity='warn') }}

with

ranked as (

    select
        scored_at,
        model_version,
        reasons,
        requires_retraining,
        row_number() over (order by scored_at desc, checked_at desc) as recency
    from {{ ref('ml_model_health') }}

)

select
    scored_at,
    model_version,
    reasons

from ranked
where recency = 1 and requires_retraining
