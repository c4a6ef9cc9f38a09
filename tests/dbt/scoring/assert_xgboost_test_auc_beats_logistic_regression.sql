-- XGBoost should rank better than the logistic-regression baseline on the test
-- fold. Warns when its test AUC is not above it (or the row is missing); the
-- margin and its lead-level bootstrap interval are in ml_model_metrics
-- (auc_margin_vs_logistic_regression*).
-- assert_xgboost_not_significantly_worse_than_logistic_regression is the error gate.

{{ config(severity='warn') }}

with

margins as (

    {{ active_model_test_metrics({
        'auc_margin': 'auc_margin_vs_logistic_regression',
        'ci_low': 'auc_margin_vs_logistic_regression_ci_low',
        'ci_high': 'auc_margin_vs_logistic_regression_ci_high',
    }) }}

)

select * from margins
where auc_margin is null or auc_margin <= 0
