-- One row per attribution model and channel: the conversions and revenue the
-- model attributes to the channel in the report window, the channel's ad spend
-- in the same window, ROAS and cost per conversion. Rule-based models add up
-- their touch credits (fct_touchpoint_attribution); markov and shapley are the
-- channel results of their dbt Python models. A channel with spend but no
-- credit gets a row with 0 conversions; ratios are null when their
-- denominator is null or 0, never a division error.

{{ config(post_hook="{{ log_attribution_summary(this) }}") }}

with

touch_credits as (

    select * from {{ ref('fct_touchpoint_attribution') }}

),

markov as (

    select * from {{ ref('int_channel_credit_markov') }}

),

shapley as (

    select * from {{ ref('int_channel_credit_shapley') }}

),

paths as (

    select * from {{ ref('int_attribution_paths') }}

),

ad_spend as (

    select * from {{ ref('stg_ads__ad_spend') }}

),

report_window as (

    select * from {{ ref('int_attribution_report_window') }}

),

attribution_models as (

    {% for attribution_model in attribution_models() -%}
        select
            '{{ attribution_model }}' as attribution_model,
            {{ loop.index }} as attribution_model_order
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

channel_spend as (

    select
        ad_spend.channel,
        sum(ad_spend.spend) as spend

    from ad_spend
    inner join report_window
        on ad_spend.spend_date between report_window.window_start_date and report_window.window_end_date
    group by ad_spend.channel

),

window_conversions as (

    select
        count(*) filter (where has_path) as conversions_with_path,
        count(*) filter (where not has_path) as conversions_without_path

    from paths
    where is_conversion and is_in_report_window

),

channel_credits as (

    select
        attribution_model,
        channel,
        sum(credit) as attributed_conversions,
        sum(revenue_credit) as attributed_revenue

    from touch_credits
    where attribution_model in {{ sql_values(attribution_models('rule')) }}
    group by attribution_model, channel

    union all

    select
        'markov' as attribution_model,
        channel,
        attributed_conversions,
        attributed_revenue
    from markov

    union all

    select
        'shapley' as attribution_model,
        channel,
        attributed_conversions,
        attributed_revenue
    from shapley

),

model_channels as (

    select
        attribution_model,
        channel
    from channel_credits

    union

    select
        attribution_models.attribution_model,
        channel_spend.channel
    from attribution_models
    cross join channel_spend

),

joined as (

    select
        model_channels.attribution_model,
        model_channels.channel,
        channel_spend.spend,
        coalesce(channel_credits.attributed_conversions, 0) as attributed_conversions,
        coalesce(channel_credits.attributed_revenue, 0) as attributed_revenue

    from model_channels
    left join channel_credits
        on
            model_channels.attribution_model = channel_credits.attribution_model
            and model_channels.channel = channel_credits.channel
    left join channel_spend
        on model_channels.channel = channel_spend.channel

),

final as (

    select
        ---------- ids
        joined.attribution_model,
        joined.channel,

        ---------- numerics
        joined.attributed_conversions,
        joined.attributed_revenue,
        joined.spend,
        joined.attributed_revenue / nullif(joined.spend, 0) as roas,
        joined.spend / nullif(joined.attributed_conversions, 0) as cost_per_conversion,
        joined.attributed_conversions
        / nullif(sum(joined.attributed_conversions) over (partition by joined.attribution_model), 0)
            as conversion_share,
        joined.attributed_revenue
        / nullif(sum(joined.attributed_revenue) over (partition by joined.attribution_model), 0)
            as revenue_share,
        window_conversions.conversions_with_path,
        window_conversions.conversions_without_path,
        attribution_models.attribution_model_order,

        ---------- booleans
        joined.attribution_model in {{ sql_values(attribution_models('data_driven')) }} as is_data_driven,

        ---------- dates
        report_window.window_start_date,
        report_window.window_end_date

    from joined
    inner join attribution_models
        on joined.attribution_model = attribution_models.attribution_model
    cross join window_conversions
    cross join report_window

)

select * from final
