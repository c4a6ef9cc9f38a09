-- Backtest of matured scoring runs: for every run in scored_leads_history whose
-- horizon has passed by the scoring date, what really happened to the leads it
-- scored. Per run and band: leads, realized conversions within the horizon,
-- conversion rate, mean predicted probability and Brier score; for the whole
-- run ('all') also the realized AUC (Mann-Whitney with average ranks for ties).
-- Matured runs and outcomes as int_matured_scored_leads defines them. Empty
-- until a run has matured.

with

outcomes as (

    -- every lead of a matured run and whether it converted within the horizon
    select * from {{ ref('int_matured_scored_leads') }}

),

ranked as (

    select
        *,
        rank() over (partition by scored_at order by conversion_probability)
        + (count(*) over (partition by scored_at, conversion_probability) - 1) / 2.0
            as probability_rank

    from outcomes

),

by_run as (

    select
        scored_at,
        model_version,
        'all' as score_band,
        count(*) as n_leads,
        sum(converted) as n_converted,
        avg(converted) as conversion_rate,
        avg(conversion_probability) as mean_probability,
        case
            when sum(converted) > 0 and sum(converted) < count(*)
                then
                    (
                        sum(probability_rank) filter (where converted = 1)
                        - sum(converted) * (sum(converted) + 1) / 2.0
                    )
                    / (sum(converted) * (count(*) - sum(converted)))
        end as auc,
        avg((conversion_probability - converted) * (conversion_probability - converted)) as brier

    from ranked
    group by scored_at, model_version

),

by_band as (

    select
        scored_at,
        model_version,
        score_band,
        count(*) as n_leads,
        sum(converted) as n_converted,
        avg(converted) as conversion_rate,
        avg(conversion_probability) as mean_probability,
        cast(null as double) as auc,
        avg((conversion_probability - converted) * (conversion_probability - converted)) as brier

    from outcomes
    group by scored_at, model_version, score_band

),

unioned as (

    select * from by_run
    union all
    select * from by_band

),

final as (

    select
        scored_at,
        model_version,
        score_band,
        cast(n_leads as bigint) as n_leads,
        cast(n_converted as bigint) as n_converted,
        cast(conversion_rate as double) as conversion_rate,
        cast(mean_probability as double) as mean_probability,
        cast(auc as double) as auc,
        cast(brier as double) as brier,
        {{ dbt.dateadd('day', var('prediction_horizon_days'), 'scored_at') }} as horizon_end

    from unioned

)

select * from final
