-- Error gate: the active XGBoost model must rank better than the rule-based
-- points baseline on its test fold (AUC), with the noise of a small test fold
-- handled by the margin's 90% lead-bootstrap interval instead of by excluding
-- the gate: it fails when the model is significantly worse than the rules
-- (the interval's upper end at or below zero), and, where the interval is
-- narrow enough to tell (half-width up to 0.05 AUC), when its point estimate is
-- not above the rules'. A missing metric row fails too: a gate never passes
-- because its input is missing. Only the rule fallback (nothing trained) and an
-- unvalidated model (no purged fold could be formed: assert_active_model_is_validated
-- warns about it) have no test fold.

{{ config(severity='error') }}

with

active as (

    select * from {{ ref('ml_active_model') }}
    where model_name = 'xgboost' and validation_method = 'rolling_origin_cv'

),

metrics as (

    select * from {{ ref('ml_model_metrics') }}
    where split = 'test' and model_name = 'xgboost'

),

compared as (

    select
        active.model_version,
        max(metrics.value) filter (where metrics.metric = 'auc_margin_vs_rule_points') as margin,
        max(metrics.value) filter (where metrics.metric = 'auc_margin_vs_rule_points_ci_low') as margin_ci_low,
        max(metrics.value) filter (where metrics.metric = 'auc_margin_vs_rule_points_ci_high') as margin_ci_high

    from active
    left join metrics
        on active.model_version = metrics.model_version
    group by active.model_version

)

select * from compared
where
    margin is null
    or margin_ci_low is null
    or margin_ci_high is null
    or margin_ci_high <= 0
    or (margin_ci_high - margin_ci_low <= 0.10 and margin <= 0)
