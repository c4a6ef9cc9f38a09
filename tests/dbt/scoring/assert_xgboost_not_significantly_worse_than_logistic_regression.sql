-- Error gate: the active XGBoost model must not rank significantly worse than
-- the logistic-regression baseline on its test fold, i.e. the upper end of the
-- lead-level bootstrap interval of its AUC margin must be above zero (a
-- simpler model that wins beyond noise means the production model is wrong).
-- A missing margin row fails too.

{{ config(severity='error') }}

with

active as (

    select * from {{ ref('ml_active_model') }}
    where model_name = 'xgboost' and validation_method = 'rolling_origin_cv'

),

margins as (

    select * from {{ ref('ml_model_metrics') }}
    where
        split = 'test'
        and model_name = 'xgboost'
        and metric = 'auc_margin_vs_logistic_regression_ci_high'

)

select
    active.model_version,
    margins.value as auc_margin_ci_high

from active
left join margins
    on active.model_version = margins.model_version
where margins.value is null or margins.value < 0
