-- Error gate: the production XGBoost model must not rank significantly worse
-- than the logistic-regression baseline on the test split, i.e. the upper end
-- of the lead-level bootstrap interval of its AUC margin must be above zero.
-- (A simpler model that wins beyond noise means the production model is wrong.)

{{ config(severity='error') }}

with

metrics as (

    select * from {{ ref('ml_model_metrics') }}
    where
        split = 'test'
        and model_name = 'xgboost'
        and metric = 'auc_margin_vs_logistic_regression_ci_high'

)

select
    model_version,
    value as auc_margin_ci_high

from metrics
where value < 0
