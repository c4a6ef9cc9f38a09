-- Every raw ad-spend row, cast and normalised, with the first data-quality
-- rule it breaks (dq_issue; null = kept).

with

source as (

    select * from {{ source('ads', 'ad_spend') }}

),

channels as (

    select * from {{ ref('channels') }}

),

cleaned as (

    select
        ---------- strings
        nullif(regexp_replace(lower(trim(channel)), '[\s\-]+', '_'{{ regexp_global() }}), '') as channel_raw,
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
        coalesce(channels.channel, 'other') as channel,
        cleaned.utm_campaign,
        cleaned.spend,
        cleaned.spend_date,
        channels.channel is null as is_channel_repaired,
        case
            when cleaned.spend_date is null and cleaned.is_spend_date_malformed then 'malformed_spend_date'
            when cleaned.spend_date is null then 'missing_spend_date'
            when cleaned.spend_date > cast({{ scoring_at() }} as date) then 'spent_after_scoring_date'
            when cleaned.spend is null and cleaned.is_spend_malformed then 'malformed_spend'
            when cleaned.spend is null then 'missing_spend'
            when cleaned.spend < 0 then 'negative_spend'
        end as dq_issue

    from cleaned
    left join channels
        on cleaned.channel_raw = channels.channel

)

select * from validated
