-- One row: the registry row that scores this build (the latest ml_models row by
-- trained_at, ties by the smallest model_version; ml_models re-appends an older
-- version when it becomes active again), without the blobs and JSON tables. What
-- the model-quality gates and dashboards check: which model, validated how,
-- calibrated on what. The one SQL home of the rule (SQL models and tests ref this
-- model); Python applies the same rule with lead_scoring.ml.registry.active_model.

with

registry as (

    select * from {{ ref('ml_models') }}

),

ordered as (

    select
        *,
        row_number() over (order by trained_at desc, model_version asc) as registry_rank

    from registry

),

latest as (

    select
        model_version,
        model_name,
        trained_at,
        scoring_at,
        horizon_days,
        validation_method,
        calibration_source,
        chosen_calibrator,
        train_start,
        train_end,
        test_start,
        test_end,
        n_train_rows,
        n_train_positives,
        metrics_json

    from ordered
    where registry_rank = 1

)

select * from latest
