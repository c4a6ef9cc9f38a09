-- The production XGBoost model must rank better than the rule-based points
-- baseline on the test split (AUC). Returns a row when it does not. No rows
-- when ml_models holds the rule-based fallback (nothing was trained).

{{ config(severity='error') }}

with

metrics as (

    select * from {{ ref('ml_model_metrics') }}
    where split = 'test' and metric = 'auc'

),

xgboost as (

    select
        model_version,
        value as xgboost_auc

    from metrics
    where model_name = 'xgboost'

),

rule_points as (

    select
        model_version,
        value as rule_points_auc

    from metrics
    where model_name = 'rule_points'

)

select
    xgboost.model_version,
    xgboost.xgboost_auc,
    rule_points.rule_points_auc

from xgboost
left join rule_points
    on xgboost.model_version = rule_points.model_version
where rule_points.rule_points_auc is null or xgboost.xgboost_auc <= rule_points.rule_points_auc
