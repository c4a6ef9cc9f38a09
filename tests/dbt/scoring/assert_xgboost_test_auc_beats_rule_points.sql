-- Error gate: the active XGBoost model must rank better than the rule-based
-- points baseline on its test fold (AUC). A missing metric row fails too: a
-- gate never passes because its input is missing. Only the rule fallback
-- (nothing trained) and an unvalidated model (no purged fold could be formed:
-- assert_active_model_is_validated warns about it) have no test fold.

{{ config(severity='error') }}

with

active as (

    select * from {{ ref('ml_active_model') }}
    where model_name = 'xgboost' and validation_method = 'rolling_origin_cv'

),

metrics as (

    select * from {{ ref('ml_model_metrics') }}
    where split = 'test' and metric = 'auc'

),

compared as (

    select
        active.model_version,
        max(metrics.value) filter (where metrics.model_name = 'xgboost') as xgboost_auc,
        max(metrics.value) filter (where metrics.model_name = 'rule_points') as rule_points_auc

    from active
    left join metrics
        on active.model_version = metrics.model_version
    group by active.model_version

)

select * from compared
where
    xgboost_auc is null
    or rule_points_auc is null
    or xgboost_auc <= rule_points_auc
