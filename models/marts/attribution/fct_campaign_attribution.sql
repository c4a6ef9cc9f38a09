-- One row per attribution model, channel and campaign (utm_campaign of the
-- touch; '(not set)' when the touch or the spend line has none): the channel's
-- attributed conversions and revenue (fct_channel_attribution) split over its
-- campaigns in proportion to the touch credits of fct_touchpoint_attribution,
-- so that the campaign rows of a channel add up to the channel row in every
-- model (for rule-based models and shapley the split is the touch credits
-- themselves). Credit a channel has without any converting touch (possible
-- in markov only) is kept on a row with campaign '(unallocated)'. Spend per
-- campaign over the same report window; ratios null instead of dividing by 0.

with

touch_credits as (

    select * from {{ ref('fct_touchpoint_attribution') }}

),

channel_attribution as (

    select * from {{ ref('fct_channel_attribution') }}

),

ad_spend as (

    select * from {{ ref('stg_ads__ad_spend') }}

),

report_window as (

    select * from {{ ref('int_attribution_report_window') }}

),

campaign_touch_credits as (

    select
        attribution_model,
        channel,
        coalesce(utm_campaign, '(not set)') as utm_campaign,
        sum(credit) as touch_conversions,
        coalesce(sum(revenue_credit), 0) as touch_revenue

    from touch_credits
    group by attribution_model, channel, coalesce(utm_campaign, '(not set)')

),

channel_touch_credits as (

    select
        attribution_model,
        channel,
        sum(touch_conversions) as touch_conversions,
        sum(touch_revenue) as touch_revenue

    from campaign_touch_credits
    group by attribution_model, channel

),

allocated as (

    -- channels whose touches carry credit: split by the campaigns' touch credits
    -- (revenue by touch revenue; by touch conversions when the touches have no revenue)
    select
        campaign_touch_credits.attribution_model,
        campaign_touch_credits.channel,
        campaign_touch_credits.utm_campaign,
        channel_attribution.attributed_conversions
        * campaign_touch_credits.touch_conversions
        / channel_touch_credits.touch_conversions as attributed_conversions,
        channel_attribution.attributed_revenue
        * case
            when channel_touch_credits.touch_revenue > 0
                then campaign_touch_credits.touch_revenue / channel_touch_credits.touch_revenue
            else campaign_touch_credits.touch_conversions / channel_touch_credits.touch_conversions
        end as attributed_revenue

    from campaign_touch_credits
    inner join channel_touch_credits
        on
            campaign_touch_credits.attribution_model = channel_touch_credits.attribution_model
            and campaign_touch_credits.channel = channel_touch_credits.channel
    inner join channel_attribution
        on
            campaign_touch_credits.attribution_model = channel_attribution.attribution_model
            and campaign_touch_credits.channel = channel_attribution.channel
    where channel_touch_credits.touch_conversions > 0

    union all

    -- credit of a channel none of whose touches carries credit
    select
        channel_attribution.attribution_model,
        channel_attribution.channel,
        '(unallocated)' as utm_campaign,
        channel_attribution.attributed_conversions,
        channel_attribution.attributed_revenue

    from channel_attribution
    left join channel_touch_credits
        on
            channel_attribution.attribution_model = channel_touch_credits.attribution_model
            and channel_attribution.channel = channel_touch_credits.channel
    where
        coalesce(channel_touch_credits.touch_conversions, 0) <= 0
        and (channel_attribution.attributed_conversions > 0 or channel_attribution.attributed_revenue > 0)

),

campaign_spend as (

    select
        ad_spend.channel,
        coalesce(ad_spend.utm_campaign, '(not set)') as utm_campaign,
        sum(ad_spend.spend) as spend

    from ad_spend
    inner join report_window
        on ad_spend.spend_date between report_window.window_start_date and report_window.window_end_date
    group by ad_spend.channel, coalesce(ad_spend.utm_campaign, '(not set)')

),

model_campaigns as (

    select
        attribution_model,
        channel,
        utm_campaign
    from allocated

    union

    select
        attribution_models.attribution_model,
        campaign_spend.channel,
        campaign_spend.utm_campaign
    from (select distinct attribution_model from channel_attribution) as attribution_models
    cross join campaign_spend

),

final as (

    select
        ---------- ids
        model_campaigns.attribution_model,
        model_campaigns.channel,
        model_campaigns.utm_campaign,

        ---------- numerics
        coalesce(allocated.attributed_conversions, 0) as attributed_conversions,
        coalesce(allocated.attributed_revenue, 0) as attributed_revenue,
        campaign_spend.spend,
        coalesce(allocated.attributed_revenue, 0) / nullif(campaign_spend.spend, 0) as roas,
        campaign_spend.spend / nullif(allocated.attributed_conversions, 0) as cost_per_conversion,

        ---------- booleans
        model_campaigns.attribution_model in {{ sql_values(attribution_models('data_driven')) }} as is_data_driven,

        ---------- dates
        report_window.window_start_date,
        report_window.window_end_date

    from model_campaigns
    left join allocated
        on
            model_campaigns.attribution_model = allocated.attribution_model
            and model_campaigns.channel = allocated.channel
            and model_campaigns.utm_campaign = allocated.utm_campaign
    left join campaign_spend
        on
            model_campaigns.channel = campaign_spend.channel
            and model_campaigns.utm_campaign = campaign_spend.utm_campaign
    cross join report_window

)

select * from final
