-- scored_leads has exactly the leads of the scoring snapshots of
-- fct_lead_features (the leads open at the scoring time): none missing, none
-- extra. Returns the leads on one side only.

with

scored as (

    select lead_id from {{ ref('scored_leads') }}

),

open_leads as (

    select lead_id
    from {{ ref('fct_lead_features') }}
    where is_scoring_snapshot

)

select
    coalesce(scored.lead_id, open_leads.lead_id) as lead_id,
    scored.lead_id is null as is_missing_score,
    open_leads.lead_id is null as is_extra_score

from scored
full outer join open_leads
    on scored.lead_id = open_leads.lead_id
where scored.lead_id is null or open_leads.lead_id is null
