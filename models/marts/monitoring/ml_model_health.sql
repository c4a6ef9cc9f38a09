-- One row per scoring run: is the model still fit to score, and if not, why.
-- requires_retraining is true when any reason holds: the realized AUC of the
-- latest matured cohort fell more than var health_max_auc_drop below the test
-- AUC registered for the model that scored it; the score distribution or a
-- feature drifted past var drift_psi_major; the latest matured cohort's mean
-- probability missed its realized conversion rate by more than var
-- health_max_calibration_gap; more than var health_max_flagged_segments
-- segments are flagged in ml_segment_metrics; or the scores come from the
-- rule-based fallback. One row per scoring run and model (a rebuild with the
-- same scoring date and model adds nothing); appended, never rewritten.

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

registry as (

    select * from {{ ref('ml_models') }}

),

backtest as (

    select * from {{ ref('ml_backtest') }}

),

drift as (

    select * from {{ ref('ml_drift') }}

),

segments as (

    select * from {{ ref('ml_segment_metrics') }}

),

current_run as (

    select
        max(scored_at) as scored_at,
        max(model_version) as model_version
    from scores

),

registered as (

    -- the headline test AUC stored with each registered version
    select
        model_version,
        max(model_name) as model_name,
        max(cast(json_extract_string(metrics_json, '$.auc') as double)) as test_auc
    from registry
    group by model_version

),

latest_backtest as (

    select
        backtest.scored_at as backtest_scored_at,
        backtest.model_version as backtest_model_version,
        backtest.auc as backtest_auc,
        abs(backtest.mean_probability - backtest.conversion_rate) as calibration_gap,
        registered.test_auc as backtest_model_test_auc
    from backtest
    left join registered
        on backtest.model_version = registered.model_version
    where backtest.score_band = 'all'
    qualify row_number() over (order by backtest.scored_at desc) = 1

),

drift_summary as (

    select
        max(psi) filter (where drift_scope = 'score') as score_psi,
        max(psi) filter (where drift_scope = 'feature') as max_feature_psi,
        count(*) filter (
            where drift_scope = 'feature' and drift_level = 'major'
        ) as n_features_major_drift
    from drift

),

segment_summary as (

    select count(*) filter (where is_flagged) as n_segments_flagged
    from segments

),

checks as (

    select
        current_run.scored_at,
        current_run.model_version,
        registered.model_name,
        registered.test_auc as registered_test_auc,
        latest_backtest.backtest_scored_at,
        latest_backtest.backtest_auc,
        latest_backtest.backtest_model_test_auc - latest_backtest.backtest_auc as auc_drop,
        drift_summary.score_psi,
        drift_summary.max_feature_psi,
        coalesce(drift_summary.n_features_major_drift, 0) as n_features_major_drift,
        latest_backtest.calibration_gap,
        coalesce(segment_summary.n_segments_flagged, 0) as n_segments_flagged

    from current_run
    left join registered
        on current_run.model_version = registered.model_version
    cross join drift_summary
    cross join segment_summary
    left join latest_backtest on true

),

reasoned as (

    select
        *,
        concat_ws(
            '; ',
            case
                when model_name = 'rule_points'
                    then 'scores come from the rule-based fallback: train once enough history exists'
            end,
            case
                when auc_drop > {{ var('health_max_auc_drop') }}
                    then
                        'realized AUC ' || round(backtest_auc, 3) || ' is '
                        || round(auc_drop, 3) || ' below the registered test AUC'
            end,
            case
                when score_psi > {{ var('drift_psi_major') }}
                    then 'major score drift (PSI ' || round(score_psi, 3) || ')'
            end,
            case
                when n_features_major_drift > 0
                    then
                        n_features_major_drift || ' feature(s) with major drift (max PSI '
                        || round(max_feature_psi, 3) || ')'
            end,
            case
                when calibration_gap > {{ var('health_max_calibration_gap') }}
                    then
                        'calibration gap ' || round(calibration_gap, 3)
                        || ' on the latest matured cohort'
            end,
            case
                when n_segments_flagged > {{ var('health_max_flagged_segments') }}
                    then n_segments_flagged || ' segment(s) flagged in ml_segment_metrics'
            end
        ) as reasons

    from checks

),

final as (

    select
        scored_at,
        model_version,
        registered_test_auc,
        backtest_scored_at,
        backtest_auc,
        auc_drop,
        score_psi,
        max_feature_psi,
        cast(n_features_major_drift as bigint) as n_features_major_drift,
        calibration_gap,
        cast(n_segments_flagged as bigint) as n_segments_flagged,
        reasons <> '' as requires_retraining,
        reasons,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as checked_at

    from reasoned

    {% if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as health
            where
                health.scored_at = reasoned.scored_at
                and health.model_version = reasoned.model_version
        )
    {% endif %}

)

select * from final
