-- Warns when the active model could not be validated: no rolling-origin fold
-- with enough converted leads on both sides of its purge gap (e.g. a 90-day
-- horizon on a few months of labels). Such a model still scores (it beats
-- having none), but nothing measured its quality: ml_model_health says so too.

{{ config(severity='warn') }}

select
    model_version,
    model_name,
    validation_method,
    calibration_source

from {{ ref('ml_active_model') }}
where model_name = 'xgboost' and validation_method <> 'rolling_origin_cv'
