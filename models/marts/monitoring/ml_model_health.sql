-- One row per scoring run and model: is the model still fit to score, and if
-- not, why. requires_retraining is true when any reason holds:
--   * the scores come from the rule-based fallback;
--   * the model that scored the run is not in ml_models, or was registered
--     without a validation (validation_method 'none': its quality is
--     unmeasured), or is a validated XGBoost model whose test AUC is missing
--     (no check may pass because its input is missing);
--   * the realized AUC of the latest matured cohort fell more than var
--     health_max_auc_drop below the test AUC registered for the model that
--     scored that cohort;
--   * the score, or a feature in the verdict, drifted (ml_drift: PSI above var
--     drift_psi_major against the age-weighted recent labeled history AND
--     significant after Benjamini-Hochberg at var drift_fdr; features that grow
--     with time by construction are reported there, never counted here); or the
--     drift of a trained model's run was not measured at all;
--   * the latest matured cohort's observed / expected conversions (realized
--     conversion rate / mean predicted probability) is outside
--     [1 / r, r], r = var health_max_calibration_ratio, AND the gap is beyond
--     noise: |observed - expected| > 3 sqrt(expected) (Poisson), so 3
--     conversions against 2 expected are not a miscalibration;
--   * more than var health_max_flagged_segments segments are flagged in
--     ml_segment_metrics.
-- Before any run has matured there is no backtest: its checks wait (that is
-- not missing input, it is not there yet). One row per scoring run and model
-- (a rebuild with the same scoring date and model adds nothing); appended,
-- never rewritten.

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        full_refresh=false
    )
}}

{%- set calibration_ratio = var('health_max_calibration_ratio', 1.25) | float %}

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

    -- the headline test AUC and the validation of each registered version
    select
        model_version,
        max(model_name) as model_name,
        max(validation_method) as validation_method,
        max(cast({{ json_field('metrics_json', '$.auc') }} as double)) as test_auc
    from registry
    group by model_version

),

latest_backtest as (

    select
        row_number() over (order by backtest.scored_at desc) as recency,
        backtest.scored_at as backtest_scored_at,
        backtest.model_version as backtest_model_version,
        backtest.auc as backtest_auc,
        cast(backtest.n_converted as double) as backtest_observed_conversions,
        backtest.n_leads * backtest.mean_probability as backtest_expected_conversions,
        abs(backtest.mean_probability - backtest.conversion_rate) as calibration_gap,
        backtest.conversion_rate
        / nullif(backtest.mean_probability, 0) as observed_to_expected,
        registered.test_auc as backtest_model_test_auc,
        registered.model_name as backtest_model_name,
        registered.validation_method as backtest_validation_method
    from backtest
    left join registered
        on backtest.model_version = registered.model_version
    where backtest.score_band = 'all'

),

run_drift as (

    -- the drift rows of this very run (ml_drift is rebuilt with the scores)
    select drift.*
    from drift
    inner join current_run
        on
            drift.model_version = current_run.model_version
            and drift.scored_at = current_run.scored_at

),

drift_summary as (

    select
        max(psi) filter (where drift_scope = 'score') as score_psi,
        max(p_value_adjusted) filter (where drift_scope = 'score') as score_p_value_adjusted,
        count(*) filter (
            where drift_scope = 'score' and counts_for_verdict
        ) > 0 as score_drift_counts,
        max(psi) filter (where drift_scope = 'feature') as max_feature_psi,
        count(*) filter (
            where drift_scope = 'feature' and drift_level = 'major'
        ) as n_features_major_drift,
        count(*) filter (
            where drift_scope = 'feature' and counts_for_verdict
        ) as n_features_drift_for_verdict,
        max(psi) filter (
            where drift_scope = 'feature' and counts_for_verdict
        ) as max_verdict_feature_psi
    from run_drift

),

ranked_verdict_features as (

    select
        feature,
        psi,
        row_number() over (order by psi desc, feature asc) as psi_rank
    from run_drift
    where drift_scope = 'feature' and counts_for_verdict

),

verdict_features as (

    -- the (at most 5) features that count with the largest PSI, largest first
    select
        {{ ordered_string_agg('feature', ['psi_rank'], ', ') }} as drifted_features
    from ranked_verdict_features
    where psi_rank <= 5

),

segment_summary as (

    select count(*) filter (where is_flagged) as n_segments_flagged
    from segments

),

checks as (

    select
        current_run.scored_at,
        current_run.model_version,
        registered.model_version is not null as is_registered,
        registered.model_name,
        registered.validation_method,
        registered.test_auc as registered_test_auc,
        latest_backtest.backtest_scored_at,
        latest_backtest.backtest_model_version,
        latest_backtest.backtest_model_name,
        latest_backtest.backtest_validation_method,
        latest_backtest.backtest_model_test_auc,
        latest_backtest.backtest_auc,
        latest_backtest.backtest_model_test_auc - latest_backtest.backtest_auc as auc_drop,
        drift_summary.score_psi,
        drift_summary.score_p_value_adjusted,
        coalesce(drift_summary.score_drift_counts, false) as score_drift_counts,
        drift_summary.max_feature_psi,
        coalesce(drift_summary.n_features_major_drift, 0) as n_features_major_drift,
        coalesce(drift_summary.n_features_drift_for_verdict, 0) as n_features_drift_for_verdict,
        drift_summary.max_verdict_feature_psi,
        verdict_features.drifted_features,
        latest_backtest.calibration_gap,
        latest_backtest.observed_to_expected,
        latest_backtest.backtest_observed_conversions,
        latest_backtest.backtest_expected_conversions,
        coalesce(segment_summary.n_segments_flagged, 0) as n_segments_flagged

    from current_run
    left join registered
        on current_run.model_version = registered.model_version
    cross join drift_summary
    cross join verdict_features
    cross join segment_summary
    left join latest_backtest on latest_backtest.recency = 1

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
                when model_version is not null and not is_registered
                    then
                        'the model that scored the run (' || model_version
                        || ') is not in ml_models: nothing about it can be checked'
            end,
            case
                when model_name = 'xgboost' and validation_method = 'none'
                    then
                        'the model could not be validated on a purged fold: '
                        || 'its quality is unmeasured'
            end,
            case
                when
                    model_name = 'xgboost'
                    and validation_method = 'rolling_origin_cv'
                    and registered_test_auc is null
                    then 'test metrics missing: ml_models has no test AUC for ' || model_version
            end,
            case
                when
                    backtest_auc is not null
                    and backtest_model_name = 'xgboost'
                    and backtest_validation_method = 'rolling_origin_cv'
                    and backtest_model_test_auc is null
                    and backtest_model_version is distinct from model_version
                    then
                        'test metrics missing: ml_models has no test AUC for '
                        || backtest_model_version
                        || ', the model of the matured run: its AUC drop is unmeasured'
            end,
            case
                when auc_drop > {{ var('health_max_auc_drop') }}
                    then
                        'realized AUC ' || round(backtest_auc, 3) || ' is '
                        || round(auc_drop, 3) || ' below the registered test AUC'
            end,
            case
                when model_name = 'xgboost' and score_psi is null
                    then 'drift not measured: ml_drift has no score row for this run'
            end,
            case
                when score_drift_counts
                    then
                        'major, significant score drift (PSI ' || round(score_psi, 3)
                        || ', adjusted p '
                        || case
                            when score_p_value_adjusted < 0.0001 then '< 0.0001'
                            else cast(round(score_p_value_adjusted, 4) as {{ dbt.type_string() }})
                        end
                        || ')'
            end,
            case
                when n_features_drift_for_verdict > 0
                    then
                        n_features_drift_for_verdict
                        || ' feature(s) with major, significant drift: ' || drifted_features
                        || case when n_features_drift_for_verdict > 5 then ', ...' else '' end
                        || ' (max PSI ' || round(max_verdict_feature_psi, 3) || ')'
            end,
            case
                when
                    abs(backtest_observed_conversions - backtest_expected_conversions)
                    > 3 * sqrt(backtest_expected_conversions)
                    and (
                        backtest_expected_conversions = 0
                        or observed_to_expected > {{ calibration_ratio }}
                        or observed_to_expected < {{ 1.0 / calibration_ratio }}
                    )
                    then
                        'miscalibrated on the latest matured cohort: '
                        || cast(backtest_observed_conversions as bigint)
                        || ' conversions against ' || round(backtest_expected_conversions, 1)
                        || ' expected (observed / expected '
                        || coalesce(cast(round(observed_to_expected, 2) as {{ dbt.type_string() }}), 'n/a')
                        || ')'
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
        {{ run_started_at_timestamp(whole_seconds=true) }} as checked_at,
        validation_method,
        score_p_value_adjusted,
        cast(n_features_drift_for_verdict as bigint) as n_features_drift_for_verdict,
        observed_to_expected,
        backtest_observed_conversions,
        backtest_expected_conversions

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
