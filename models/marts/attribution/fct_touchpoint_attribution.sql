-- One row per attribution model and touch of a converted journey in the report
-- window: the share of its conversion the model gives the touch (credit; the
-- credits of a conversion add up to 1) and that share of the conversion's
-- revenue. Rule-based models come from int_attribution_touches; the
-- data-driven ones split each conversion over its touches:
--   markov:  touch_credit_weights with the channels' Markov shares as weights
--            (lead_scoring.attribution.touch_credit_weights, SQL mirror);
--   shapley: equal weights, i.e. each conversion shared equally by its
--            distinct channels, then by the touches of a channel — the
--            per-conversion Shapley value of the count game, which adds up
--            exactly to int_channel_credit_shapley per channel.

with

touches as (

    select * from {{ ref('int_attribution_touches') }}
    where is_conversion and is_in_report_window

),

markov as (

    select * from {{ ref('int_channel_credit_markov') }}

),

shapley as (

    select * from {{ ref('int_channel_credit_shapley') }}

),

rule_credits as (

    {% for attribution_model in attribution_models('rule') -%}
        select
            '{{ attribution_model }}' as attribution_model,
            touch_id,
            {{ attribution_model }}_credit as credit
        from touches
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

markov_weights as (

    select
        touches.lead_id,
        touches.touch_id,
        coalesce(markov.share, 0) / touches.channel_touch_count as touch_weight

    from touches
    left join markov
        on touches.channel = markov.channel

),

markov_credits as (

    select
        'markov' as attribution_model,
        touch_id,
        case
            when sum(touch_weight) over (partition by lead_id) > 0
                then touch_weight / sum(touch_weight) over (partition by lead_id)
            else 1 / cast(count(*) over (partition by lead_id) as double)
        end as credit

    from markov_weights

),

shapley_touches as (

    -- channels merged into 'other' by the model (var max_channels) count as 'other'
    select
        touches.lead_id,
        touches.touch_id,
        coalesce(shapley.channel, 'other') as shapley_channel

    from touches
    left join shapley
        on touches.channel = shapley.channel

),

shapley_channel_counts as (

    select
        lead_id,
        count(distinct shapley_channel) as distinct_channel_count

    from shapley_touches
    group by lead_id

),

shapley_credits as (

    select
        'shapley' as attribution_model,
        shapley_touches.touch_id,
        1 / cast(shapley_channel_counts.distinct_channel_count as double)
        / count(*) over (partition by shapley_touches.lead_id, shapley_touches.shapley_channel) as credit

    from shapley_touches
    inner join shapley_channel_counts
        on shapley_touches.lead_id = shapley_channel_counts.lead_id

),

credits as (

    select * from rule_credits
    union all
    select * from markov_credits
    union all
    select * from shapley_credits

),

final as (

    select
        ---------- ids
        credits.attribution_model,
        touches.lead_id,
        touches.touch_id,

        ---------- strings
        touches.channel,
        touches.utm_campaign,
        touches.touch_type,

        ---------- numerics
        touches.touch_position,
        touches.touch_count,
        touches.days_before_path_end as days_before_conversion,
        credits.credit,
        credits.credit * touches.conversion_value as revenue_credit,

        ---------- booleans
        credits.attribution_model in {{ sql_values(attribution_models('data_driven')) }} as is_data_driven,

        ---------- timestamps
        touches.occurred_at,
        touches.converted_at

    from credits
    inner join touches
        on credits.touch_id = touches.touch_id

)

select * from final
