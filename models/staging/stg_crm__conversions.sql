with

conversions as (

    select * from {{ ref('base_crm__conversions') }}
    where dq_issue is null

),

final as (

    select
        ---------- ids
        lead_id,

        ---------- strings
        conversion_type,

        ---------- numerics
        amount,

        ---------- timestamps
        converted_at

    from conversions

)

select * from final
