-- Every scoring run's scores, one row per lead and run (scored_at), appended and
-- never rewritten: a rebuild with the same scoring date adds nothing. The
-- source of the score trend in scored_leads, of the backtest and of model health.
-- lead_priority, score_band and experiment_arm as shown in scored_leads
-- (int_lead_scores_ranked); experiment_name is null in runs without an A/B test.
-- Contract enforced (types fixed here). on_schema_change 'append_new_columns':
-- a column added later is appended (null in older runs) instead of failing the
-- build, because the only cure for 'fail' would be a full refresh, which erases
-- the history.

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        full_refresh=false
    )
}}

with

scores as (

    select * from {{ ref('ml_scores') }}

),

ranked as (

    -- the run's priority, band and arm, ranked over every lead of the run
    select * from {{ ref('int_lead_scores_ranked') }}

),

new_rows as (

    select
        cast(scores.lead_id as {{ dbt.type_string() }}) as lead_id,
        cast(scores.scored_at as timestamp) as scored_at,
        cast(scores.conversion_probability as double) as conversion_probability,
        cast(scores.lead_score as integer) as lead_score,
        cast(ranked.score_band as {{ dbt.type_string() }}) as score_band,
        cast(scores.top_factors as {{ dbt.type_string() }}) as top_factors,
        cast(scores.fit_score as integer) as fit_score,
        cast(scores.engagement_score as integer) as engagement_score,
        cast(scores.score_confidence as double) as score_confidence,
        cast(scores.model_version as {{ dbt.type_string() }}) as model_version,
        {{ run_started_at_timestamp(whole_seconds=true) }} as recorded_at,
        cast(ranked.lead_priority as integer) as lead_priority,
        cast(ranked.experiment_name as {{ dbt.type_string() }}) as experiment_name,
        cast(ranked.experiment_arm as {{ dbt.type_string() }}) as experiment_arm

    from scores
    inner join ranked
        on scores.lead_id = ranked.lead_id

    {% if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as history
            where
                history.lead_id = scores.lead_id
                and history.scored_at = scores.scored_at
        )
    {% endif %}

)

select * from new_rows
