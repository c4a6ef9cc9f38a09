-- A scored lead is open at scored_at: none may have a conversion dated at or
-- before its scored_at. Returns the offending leads.

with

scored as (

    select * from {{ ref('scored_leads') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

)

select
    scored.lead_id,
    scored.scored_at,
    min(conversions.converted_at) as first_converted_at

from scored
inner join conversions
    on
        scored.lead_id = conversions.lead_id
        and scored.scored_at >= conversions.converted_at
group by scored.lead_id, scored.scored_at
