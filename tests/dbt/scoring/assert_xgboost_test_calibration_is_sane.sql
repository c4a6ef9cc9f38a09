-- Error gate: on its test fold the active model's probabilities must not be
-- grossly off: observed / expected conversions (sum of outcomes / sum of
-- probabilities) within [0.5, 2]. A missing row fails too. The 25 % band is the
-- warn-level assert_xgboost_test_observed_to_expected_within_25_percent; the
-- per-decile ratios and the equal-mass ECE are in ml_model_metrics.

{{ config(severity='error') }}

with

ratios as (

    {{ active_model_test_metrics({'observed_to_expected': 'observed_to_expected'}) }}

)

select * from ratios
where observed_to_expected is null or observed_to_expected not between 0.5 and 2.0
