-- XGBoost should rank better than the logistic-regression baseline on the test
-- split. Warns when its test AUC is not above it; the margin and its lead-level
-- bootstrap interval are in ml_model_metrics (auc_margin_vs_logistic_regression*).
-- assert_xgboost_not_significantly_worse_than_logistic_regression is the error gate.

{{ config(severity='warn') }}

with

metrics as (

    select * from {{ ref('ml_model_metrics') }}
    where split = 'test' and model_name = 'xgboost'

)

select
    model_version,
    max(value) filter (where metric = 'auc_margin_vs_logistic_regression') as auc_margin,
    max(value) filter (where metric = 'auc_margin_vs_logistic_regression_ci_low') as ci_low,
    max(value) filter (where metric = 'auc_margin_vs_logistic_regression_ci_high') as ci_high

from metrics
group by model_version
having
    max(value) filter (where metric = 'auc_margin_vs_logistic_regression') is null
    or max(value) filter (where metric = 'auc_margin_vs_logistic_regression') <= 0
