-- For the rule-based models and shapley, the touch credits of a channel
-- (fct_touchpoint_attribution) add up to its row in fct_channel_attribution;
-- for shapley this checks that the documented split over touches is the exact
-- per-conversion Shapley value of int_channel_credit_shapley. (markov is
-- excluded on purpose: its channel credit is global, see the docs.)

with

touch_credits as (

    select * from {{ ref('fct_touchpoint_attribution') }}
    where attribution_model != 'markov'

),

channel_attribution as (

    select * from {{ ref('fct_channel_attribution') }}
    where attribution_model != 'markov'

),

shapley as (

    select * from {{ ref('int_channel_credit_shapley') }}

),

touch_totals as (

    -- channels merged into 'other' by the shapley model count as 'other'
    select
        touch_credits.attribution_model,
        case
            when touch_credits.attribution_model = 'shapley' then coalesce(shapley.channel, 'other')
            else touch_credits.channel
        end as channel,
        sum(touch_credits.credit) as attributed_conversions,
        coalesce(sum(touch_credits.revenue_credit), 0) as attributed_revenue

    from touch_credits
    left join shapley
        on touch_credits.channel = shapley.channel
    group by
        touch_credits.attribution_model,
        case
            when touch_credits.attribution_model = 'shapley' then coalesce(shapley.channel, 'other')
            else touch_credits.channel
        end

),

validation_errors as (

    select
        coalesce(channel_attribution.attribution_model, touch_totals.attribution_model) as attribution_model,
        coalesce(channel_attribution.channel, touch_totals.channel) as channel,
        channel_attribution.attributed_conversions,
        touch_totals.attributed_conversions as touch_conversions,
        channel_attribution.attributed_revenue,
        touch_totals.attributed_revenue as touch_revenue

    from channel_attribution
    full outer join touch_totals
        on
            channel_attribution.attribution_model = touch_totals.attribution_model
            and channel_attribution.channel = touch_totals.channel
    where
        abs(coalesce(channel_attribution.attributed_conversions, 0) - coalesce(touch_totals.attributed_conversions, 0))
        > 1e-6
        or abs(coalesce(channel_attribution.attributed_revenue, 0) - coalesce(touch_totals.attributed_revenue, 0))
        > 1e-6 * greatest(1, abs(coalesce(channel_attribution.attributed_revenue, 0)))

)

select * from validation_errors
