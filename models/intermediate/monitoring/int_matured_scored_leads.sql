-- One row per lead x matured scoring run: every row of scored_leads_history
-- whose horizon (scored_at + var prediction_horizon_days) has passed by the
-- scoring date, with what really happened to the lead: converted = 1 when its
-- first conversion fell in (scored_at, scored_at + horizon], else 0. The one
-- definition of a matured cohort and its realized outcome, read by
-- ml_backtest, fct_channel_mix_performance and ml_experiment_results. Empty
-- until a run has matured.

with

history as (

    select * from {{ ref('scored_leads_history') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

matured_runs as (

    select distinct scored_at
    from history
    where {{ dbt.dateadd('day', var('prediction_horizon_days'), 'scored_at') }} <= {{ scoring_at() }}

),

final as (

    select
        history.lead_id,
        history.scored_at,
        history.model_version,
        history.conversion_probability,
        history.lead_score,
        history.score_band,
        history.lead_priority,
        history.experiment_name,
        history.experiment_arm,
        {{ dbt.dateadd('day', var('prediction_horizon_days'), 'history.scored_at') }} as horizon_end,
        case
            when
                conversions.converted_at > history.scored_at
                and conversions.converted_at
                <= {{ dbt.dateadd('day', var('prediction_horizon_days'), 'history.scored_at') }}
                then 1
            else 0
        end as converted

    from history
    inner join matured_runs
        on history.scored_at = matured_runs.scored_at
    left join conversions
        on history.lead_id = conversions.lead_id

)

select * from final
