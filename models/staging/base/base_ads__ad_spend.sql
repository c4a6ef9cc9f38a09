-- Every raw ad-spend row, cast and normalised, with the first data-quality
-- rule it breaks (dq_issue; null = kept).

with

source as (

    select * from {{ source('ads', 'ad_spend') }}

),

cleaned as (

    select
        ---------- strings
        nullif(regexp_replace(lower(trim(channel)), '[\s\-]+', '_', 'g'), '') as channel_raw,
        nullif(lower(trim(utm_campaign)), '') as utm_campaign,

        ---------- numerics
        {{ try_cast_finite_double('spend') }} as spend,
        spend is not null and {{ try_cast_finite_double('spend') }} is null as is_spend_malformed,

        ---------- dates
        try_cast(spend_date as date) as spend_date,
        spend_date is not null and try_cast(spend_date as date) is null as is_spend_date_malformed

    from source

),

validated as (

    select
        case
            when channel_raw in {{ sql_values(canonical_channels()) }} then channel_raw
            else 'other'
        end as channel,
        utm_campaign,
        spend,
        spend_date,
        channel_raw is null
        or channel_raw not in {{ sql_values(canonical_channels()) }} as is_channel_repaired,
        case
            when spend_date is null and is_spend_date_malformed then 'malformed_spend_date'
            when spend_date is null then 'missing_spend_date'
            when spend_date > cast({{ scoring_at() }} as date) then 'spent_after_scoring_date'
            when spend is null and is_spend_malformed then 'malformed_spend'
            when spend is null then 'missing_spend'
            when spend < 0 then 'negative_spend'
        end as dq_issue

    from cleaned

)

select * from validated
