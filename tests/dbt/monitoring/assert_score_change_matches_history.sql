-- The score trend in scored_leads is the difference with the lead's latest
-- earlier run in scored_leads_history, and null exactly on its first run.

with

scored as (

    select * from {{ ref('scored_leads') }}

),

history as (

    select * from {{ ref('scored_leads_history') }}

),

previous as (

    select
        scored.lead_id,
        max_by(history.lead_score, history.scored_at) as previous_lead_score
    from scored
    inner join history
        on
            scored.lead_id = history.lead_id
            and scored.scored_at > history.scored_at
    group by scored.lead_id

)

select
    scored.lead_id,
    scored.lead_score,
    scored.score_change,
    previous.previous_lead_score

from scored
left join previous
    on scored.lead_id = previous.lead_id
where
    (previous.lead_id is null and scored.score_change is not null)
    or (
        previous.lead_id is not null
        and scored.score_change is distinct from scored.lead_score - previous.previous_lead_score
    )
