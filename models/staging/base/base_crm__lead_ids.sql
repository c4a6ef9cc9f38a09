-- One row per valid lead (base_crm__leads kept rows): the key the touchpoints
-- and conversions are matched on. A raw lead_id matches exactly; failing
-- that, case-insensitively when only one lead has that id in any case ('l1'
-- finds 'L1'; with both 'L1' and 'l1' in the leads file only exact matches
-- count, as in Salesforce's case-sensitive 15-character ids).

with

leads as (

    select * from {{ ref('base_crm__leads') }}
    where dq_issue is null

),

final as (

    select
        lead_id,
        lower(lead_id) as lead_id_folded,
        count(*) over (partition by lower(lead_id)) = 1 as is_only_case_variant,
        lead_created_at

    from leads

)

select * from final
