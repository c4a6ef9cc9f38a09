-- One row per channel mix: the sorted set of distinct channels a lead had
-- touched by the time it was scored (e.g. 'organic_search + paid_social'),
-- over the matured scoring runs of scored_leads_history (scored_at + var
-- prediction_horizon_days at or before the scoring date). Per mix: scored
-- leads (lead x run), mean predicted probability, realized conversion rate
-- (first conversion in (scored_at, scored_at + horizon], as defined once in
-- int_matured_scored_leads) and lift over the base rate of those runs. Point
-- in time: only touches at or before scored_at.
-- Mixes with fewer than var channel_mix_min_leads scored leads are pooled into
-- 'other combinations'. Empty until a run has matured. See doc
-- `fct_channel_mix_performance`.

{%- set min_leads = var('channel_mix_min_leads') | int %}
{%- if min_leads < 1 %}
    {{ exceptions.raise_compiler_error("var channel_mix_min_leads must be a whole number >= 1, got " ~ var('channel_mix_min_leads')) }}
{%- endif %}

with

outcomes as (

    -- every lead of a matured run and whether it converted within the horizon
    select * from {{ ref('int_matured_scored_leads') }}

),

touches as (

    select * from {{ ref('int_marketing_touches') }}

),

journey_channels as (

    -- the distinct channels of the lead's touches up to its score: nothing later is read
    select distinct
        outcomes.lead_id,
        outcomes.scored_at,
        touches.channel

    from outcomes
    inner join touches
        on
            outcomes.lead_id = touches.lead_id
            and outcomes.scored_at >= touches.occurred_at

),

journey_mixes as (

    select
        lead_id,
        scored_at,
        {{ ordered_string_agg('channel', 'channel', ' + ') }} as channel_mix,
        count(*) as channel_count

    from journey_channels
    group by lead_id, scored_at

),

scored_mixes as (

    select
        outcomes.lead_id,
        outcomes.scored_at,
        outcomes.conversion_probability,
        outcomes.converted,
        coalesce(journey_mixes.channel_mix, 'no touches') as channel_mix,
        coalesce(journey_mixes.channel_count, 0) as channel_count

    from outcomes
    left join journey_mixes
        on
            outcomes.lead_id = journey_mixes.lead_id
            and outcomes.scored_at = journey_mixes.scored_at

),

mix_sizes as (

    select
        channel_mix,
        count(*) as mix_leads

    from scored_mixes
    group by channel_mix

),

pooled as (

    -- a mix seen fewer than channel_mix_min_leads times joins the pool
    select
        scored_mixes.lead_id,
        scored_mixes.scored_at,
        scored_mixes.conversion_probability,
        scored_mixes.converted,
        scored_mixes.channel_mix as original_channel_mix,
        mix_sizes.mix_leads < {{ min_leads }} as is_pooled,
        case
            when mix_sizes.mix_leads >= {{ min_leads }} then scored_mixes.channel_mix
            else 'other combinations'
        end as channel_mix,
        case when mix_sizes.mix_leads >= {{ min_leads }} then scored_mixes.channel_count end as channel_count

    from scored_mixes
    inner join mix_sizes
        on scored_mixes.channel_mix = mix_sizes.channel_mix

),

base_rate as (

    select avg(converted) as base_conversion_rate
    from outcomes

),

by_mix as (

    select
        channel_mix,
        is_pooled,
        max(channel_count) as channel_count,
        count(distinct original_channel_mix) as combination_count,
        count(*) as n_leads,
        count(distinct lead_id) as n_distinct_leads,
        sum(converted) as n_converted,
        avg(conversion_probability) as mean_conversion_probability,
        avg(converted) as conversion_rate,
        count(distinct scored_at) as matured_run_count,
        min(scored_at) as first_scored_at,
        max(scored_at) as last_scored_at

    from pooled
    group by channel_mix, is_pooled

),

final as (

    select
        by_mix.channel_mix,
        by_mix.is_pooled,
        cast(by_mix.channel_count as integer) as channel_count,
        cast(by_mix.combination_count as bigint) as combination_count,
        cast(by_mix.n_leads as bigint) as n_leads,
        cast(by_mix.n_distinct_leads as bigint) as n_distinct_leads,
        cast(by_mix.n_converted as bigint) as n_converted,
        cast(by_mix.mean_conversion_probability as double) as mean_conversion_probability,
        cast(by_mix.conversion_rate as double) as conversion_rate,
        cast(base_rate.base_conversion_rate as double) as base_conversion_rate,
        cast(
            case
                when base_rate.base_conversion_rate > 0
                    then by_mix.conversion_rate / base_rate.base_conversion_rate
            end as double
        ) as lift,
        cast(by_mix.matured_run_count as bigint) as matured_run_count,
        by_mix.first_scored_at,
        by_mix.last_scored_at

    from by_mix
    cross join base_rate

)

select * from final
