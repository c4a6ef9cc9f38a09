-- XGBoost should rank better than the logistic-regression baseline on the test
-- fold. Warns when its test AUC is not above it (or the row is missing); the
-- margin and its lead-level bootstrap interval are in ml_model_metrics
-- (auc_margin_vs_logistic_regression*).
-- assert_xgboost_not_significantly_worse_than_logistic_regression is the error gate.

{{ config(severity='warn') }}

with

active as (

    select * from {{ ref('ml_active_model') }}
    where model_name = 'xgboost' and validation_method = 'rolling_origin_cv'

),

metrics as (

    select * from {{ ref('ml_model_metrics') }}
    where split = 'test' and model_name = 'xgboost'

),

margins as (

    select
        active.model_version,
        max(metrics.value) filter (where metrics.metric = 'auc_margin_vs_logistic_regression') as auc_margin,
        max(metrics.value) filter (where metrics.metric = 'auc_margin_vs_logistic_regression_ci_low') as ci_low,
        max(metrics.value) filter (where metrics.metric = 'auc_margin_vs_logistic_regression_ci_high') as ci_high

    from active
    left join metrics
        on active.model_version = metrics.model_version
    group by active.model_version

)

select * from margins
where auc_margin is null or auc_margin <= 0
