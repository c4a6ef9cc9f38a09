-- Error gate: the active XGBoost model must not rank significantly worse than
-- the logistic-regression baseline on its test fold, i.e. the upper end of the
-- lead-level bootstrap interval of its AUC margin must be above zero (a
-- simpler model that wins beyond noise means the production model is wrong).
-- A missing margin row fails too.

{{ config(severity='error') }}

with

margins as (

    {{ active_model_test_metrics({'auc_margin_ci_high': 'auc_margin_vs_logistic_regression_ci_high'}) }}

)

select * from margins
where auc_margin_ci_high is null or auc_margin_ci_high < 0
