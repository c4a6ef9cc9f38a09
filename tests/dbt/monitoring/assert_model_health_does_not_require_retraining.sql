-- Warns (every build) when the latest health check requires retraining, with
-- the reasons: what a data team should read first.

{{ config(severity='warn') }}

with

latest as (

    select * from {{ ref('ml_model_health') }}
    qualify row_number() over (order by scored_at desc, checked_at desc) = 1

)

select
    scored_at,
    model_version,
    reasons

from latest
where requires_retraining
