-- One row per lead open at the scoring date: its calibrated conversion
-- probability (and over 7 / 30 / 90 days), 0-100 score, band, reasons and the model version that scored
-- it, with the change since the lead's previous scoring run (from
-- scored_leads_history). lead_priority (1-100, the percentile of the lead's
-- ranker among the leads of its experiment arm in this run) is the column a rep sorts by; lift is the
-- probability over the base rate the bands are built on. experiment_arm is the
-- lead's arm of the A/B test of the model against the rule points: in the
-- 'rules' arm priority and band come from the rule points, in the 'model' arm
-- (every lead when var experiment_rules_share is 0) from the probability
-- (int_lead_scores_ranked). A thin, contract-enforced view of the ml_scores
-- Python model (contracts are refused on Python models): the output interface
-- for BI and the CRM.

with

scores as (

    select * from {{ ref('ml_scores') }}

),

history as (

    select * from {{ ref('scored_leads_history') }}

),

ranked as (

    select * from {{ ref('int_lead_scores_ranked') }}

),

previous_run as (

    select
        scores.lead_id,
        max(history.scored_at) as previous_scored_at,
        max_by(history.lead_score, history.scored_at) as previous_lead_score,
        max_by(history.score_band, history.scored_at) as previous_score_band

    from scores
    inner join history
        on
            scores.lead_id = history.lead_id
            and scores.scored_at > history.scored_at
    group by scores.lead_id

),

final as (

    select
        cast(scores.lead_id as {{ dbt.type_string() }}) as lead_id,
        cast(scores.scored_at as timestamp) as scored_at,
        cast(scores.conversion_probability as double) as conversion_probability,
        cast(scores.conversion_probability_7d as double) as conversion_probability_7d,
        cast(scores.conversion_probability_30d as double) as conversion_probability_30d,
        cast(scores.conversion_probability_90d as double) as conversion_probability_90d,
        cast(scores.lead_score as integer) as lead_score,
        cast(ranked.lead_priority as integer) as lead_priority,
        cast(scores.conversion_probability / nullif(scores.base_rate, 0) as double) as lift,
        cast(ranked.score_band as {{ dbt.type_string() }}) as score_band,
        cast(scores.top_factors as {{ dbt.type_string() }}) as top_factors,
        cast(scores.top_factors_json as {{ dbt.type_string() }}) as top_factors_json,
        cast(scores.reasons_for as {{ dbt.type_string() }}) as reasons_for,
        cast(scores.reasons_against as {{ dbt.type_string() }}) as reasons_against,
        cast(scores.fit_score as integer) as fit_score,
        cast(scores.engagement_score as integer) as engagement_score,
        cast(scores.score_confidence as double) as score_confidence,
        cast(scores.model_version as {{ dbt.type_string() }}) as model_version,
        cast(previous_run.previous_scored_at as timestamp) as previous_scored_at,
        cast(previous_run.previous_lead_score as integer) as previous_lead_score,
        cast(previous_run.previous_score_band as {{ dbt.type_string() }}) as previous_score_band,
        cast(scores.lead_score - previous_run.previous_lead_score as integer) as score_change,
        cast(ranked.experiment_arm as {{ dbt.type_string() }}) as experiment_arm

    from scores
    inner join ranked
        on scores.lead_id = ranked.lead_id
    left join previous_run
        on scores.lead_id = previous_run.lead_id

)

select * from final
