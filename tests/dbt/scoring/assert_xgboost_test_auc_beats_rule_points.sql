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

compared as (

    {{ active_model_test_metrics({
        'margin': 'auc_margin_vs_rule_points',
        'margin_ci_low': 'auc_margin_vs_rule_points_ci_low',
        'margin_ci_high': 'auc_margin_vs_rule_points_ci_high',
    }) }}

)

select * from compared
where
    margin is null
    or margin_ci_low is null
    or margin_ci_high is null
    or margin_ci_high <= 0
    or (margin_ci_high - margin_ci_low <= 0.10 and margin <= 0)
