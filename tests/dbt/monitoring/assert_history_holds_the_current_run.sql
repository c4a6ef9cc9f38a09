-- Every scored lead of this run is in scored_leads_history (the history is
-- appended before scored_leads reads it). A rebuild with the same scoring date
-- keeps the scores first recorded for it: the history is never rewritten.

select
    scored.lead_id,
    scored.scored_at

from {{ ref('scored_leads') }} as scored
left join {{ ref('scored_leads_history') }} as history
    on
        scored.lead_id = history.lead_id
        and scored.scored_at = history.scored_at
where history.lead_id is null
