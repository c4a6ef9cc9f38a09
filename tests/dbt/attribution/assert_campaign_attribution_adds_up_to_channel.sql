-- In every model, the campaign rows of a channel (fct_campaign_attribution)
-- add up to the channel row of fct_channel_attribution: conversions, revenue
-- and spend.

with

channel_attribution as (

    select * from {{ ref('fct_channel_attribution') }}

),

campaign_attribution as (

    select * from {{ ref('fct_campaign_attribution') }}

),

campaign_totals as (

    select
        attribution_model,
        channel,
        sum(attributed_conversions) as attributed_conversions,
        sum(attributed_revenue) as attributed_revenue,
        sum(spend) as spend

    from campaign_attribution
    group by attribution_model, channel

),

validation_errors as (

    select
        channel_attribution.attribution_model,
        channel_attribution.channel,
        channel_attribution.attributed_conversions,
        campaign_totals.attributed_conversions as campaign_conversions,
        channel_attribution.attributed_revenue,
        campaign_totals.attributed_revenue as campaign_revenue,
        channel_attribution.spend,
        campaign_totals.spend as campaign_spend

    from channel_attribution
    full outer join campaign_totals
        on
            channel_attribution.attribution_model = campaign_totals.attribution_model
            and channel_attribution.channel = campaign_totals.channel
    where
        abs(
            coalesce(channel_attribution.attributed_conversions, 0)
            - coalesce(campaign_totals.attributed_conversions, 0)
        ) > 1e-6
        or abs(
            coalesce(channel_attribution.attributed_revenue, 0)
            - coalesce(campaign_totals.attributed_revenue, 0)
        ) > 1e-6 * greatest(1, abs(coalesce(channel_attribution.attributed_revenue, 0)))
        or abs(coalesce(channel_attribution.spend, 0) - coalesce(campaign_totals.spend, 0))
        > 1e-6 * greatest(1, coalesce(channel_attribution.spend, 0))

)

select * from validation_errors
