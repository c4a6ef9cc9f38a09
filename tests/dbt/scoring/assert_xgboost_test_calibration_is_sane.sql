-- Error gate: on its test fold the active model's probabilities must not be
-- grossly off: observed / expected conversions (sum of outcomes / sum of
-- probabilities) within [0.5, 2]. A missing row fails too. The 25 % band is the
-- warn-level assert_xgboost_test_observed_to_expected_within_25_percent; the
-- per-decile ratios and the equal-mass ECE are in ml_model_metrics.

{{ config(severity='error') }}

with

active as (

    select * from {{ ref('ml_active_model') }}
    where model_name = 'xgboost' and validation_method = 'rolling_origin_cv'

),

ratios as (

    select * from {{ ref('ml_model_metrics') }}
    where split = 'test' and model_name = 'xgboost' and metric = 'observed_to_expected'

)

select
    active.model_version,
    ratios.value as observed_to_expected

from active
left join ratios
    on active.model_version = ratios.model_version
where ratios.value is null or ratios.value not between 0.5 and 2.0
