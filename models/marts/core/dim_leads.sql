-- One row per lead (stg_crm__leads): who the lead is, how it arrived and
-- whether it converted, as of the scoring date. No personal data: the email,
-- its domain hash and the job title stay in staging; the attributes below are
-- the vocabularies staging already derived (seniority, job function, size
-- band, region), read as they are. The key every lead-grain mart joins on
-- (scored_leads, scored_leads_history, the attribution marts). See doc `dim_leads`.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

touches as (

    select * from {{ ref('int_marketing_touches') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

journeys as (

    select
        lead_id,
        count(*) as touch_count,
        count(distinct channel) as touch_channel_count,
        min(occurred_at) as first_touch_at,
        min_by(channel, touch_number) as first_touch_channel,
        max(occurred_at) as last_touch_at,
        max_by(channel, touch_number) as last_touch_channel

    from touches
    group by lead_id

),

joined as (

    select
        ---------- ids
        leads.lead_id,

        ---------- firmographic and demographic
        leads.lead_source,
        leads.industry,
        leads.region,
        leads.country_code,
        leads.company_size as company_size_band,
        leads.company_size_ordinal,
        leads.seniority_level,
        leads.seniority_rank,
        leads.job_function,

        ---------- journey: the marketing touches of int_marketing_touches
        journeys.first_touch_channel,
        journeys.last_touch_channel,
        coalesce(journeys.touch_count, 0) as touch_count,
        coalesce(journeys.touch_channel_count, 0) as touch_channel_count,
        journeys.first_touch_at,
        journeys.last_touch_at,

        ---------- status: the lead's first valid conversion (stg_crm__conversions holds only that one)
        case when conversions.lead_id is not null then 'converted' else 'open' end as status,
        conversions.lead_id is not null as is_converted,
        conversions.conversion_type,
        conversions.amount as conversion_amount,
        {{ seconds_between('leads.created_at', 'conversions.converted_at') }} / 86400.0 as days_to_conversion,

        ---------- dates and timestamps
        cast(leads.created_at as date) as created_date,
        cast(conversions.converted_at as date) as conversion_date,
        leads.created_at,
        conversions.converted_at

    from leads
    left join journeys
        on leads.lead_id = journeys.lead_id
    left join conversions
        on leads.lead_id = conversions.lead_id

)

select * from joined
