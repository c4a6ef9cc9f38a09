-- One row per lead open at the scoring date: its calibrated conversion
-- probability, 0-100 score, band, reasons and the model version that scored
-- it. A thin, contract-enforced view of the ml_scores Python model (contracts
-- are refused on Python models): the output interface for BI and the CRM.

with

scores as (

    select * from {{ ref('ml_scores') }}

),

final as (

    select
        cast(lead_id as varchar) as lead_id,
        cast(scored_at as timestamp) as scored_at,
        cast(conversion_probability as double) as conversion_probability,
        cast(lead_score as integer) as lead_score,
        cast(score_band as varchar) as score_band,
        cast(top_factors as varchar) as top_factors,
        cast(top_factors_json as varchar) as top_factors_json,
        cast(fit_score as integer) as fit_score,
        cast(engagement_score as integer) as engagement_score,
        cast(score_confidence as double) as score_confidence,
        cast(model_version as varchar) as model_version

    from scores

)

select * from final
