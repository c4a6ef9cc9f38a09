-- Every lead of scored_leads has its row in dim_leads: the relationships test
-- of scored_leads.lead_id, kept here beside the dimension it checks.

with

scored_leads as (

    select * from {{ ref('scored_leads') }}

),

dim_leads as (

    select * from {{ ref('dim_leads') }}

),

validation_errors as (

    select scored_leads.lead_id
    from scored_leads
    left join dim_leads
        on scored_leads.lead_id = dim_leads.lead_id
    where dim_leads.lead_id is null

)

select * from validation_errors
