with

leads as (

    select * from {{ ref('base_crm__leads') }}
    where dq_issue is null

),

final as (

    select
        ---------- ids
        lead_id,

        ---------- strings
        job_title,
        seniority_level,
        job_function,
        company_size,
        industry,
        country_code,
        region,
        lead_source,
        tech_stack,
        email_domain_hash,

        ---------- numerics
        seniority_rank,
        company_size_ordinal,

        ---------- booleans
        is_personal_email,
        is_student,
        is_job_seeker,
        is_retired,
        is_self_employed,
        has_non_buyer_title,

        ---------- timestamps
        lead_created_at as created_at

    from leads

)

select * from final
