with

ad_spend as (

    select * from {{ ref('base_ads__ad_spend') }}
    where dq_issue is null

),

final as (

    select
        ---------- strings
        channel,
        utm_campaign,

        ---------- numerics
        spend,

        ---------- dates
        spend_date

    from ad_spend

)

select * from final
