-- Every scoring run's scores, one row per lead and run (scored_at), appended and
-- never rewritten: a rebuild with the same scoring date adds nothing. The
-- source of the score trend in scored_leads, of the backtest and of model health.

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns'
    )
}}

with

scores as (

    select * from {{ ref('ml_scores') }}

),

new_rows as (

    select
        scores.lead_id,
        scores.scored_at,
        scores.conversion_probability,
        scores.lead_score,
        scores.score_band,
        scores.top_factors,
        scores.fit_score,
        scores.engagement_score,
        scores.score_confidence,
        scores.model_version,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as recorded_at

    from scores

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
