-- Leads scored 30 % should convert about 30 % of the time: warns when, on the
-- active model's test fold, observed / expected conversions fall outside
-- [0.8, 1.25], overall (with at least 20 conversions in the fold) or in one of
-- the two top deciles, the leads reps call first (with at least 400 in the
-- fold, so that a decile holds enough to judge).

{{ config(severity='warn') }}

with

active as (

    select * from {{ ref('ml_active_model') }}
    where model_name = 'xgboost' and validation_method = 'rolling_origin_cv'

),

metrics as (

    select * from {{ ref('ml_model_metrics') }}
    where
        split = 'test'
        and model_name = 'xgboost'
        and metric in (
            'observed_to_expected',
            'observed_to_expected_decile_1',
            'observed_to_expected_decile_2',
            'n_positives'
        )

),

checked as (

    select
        active.model_version,
        metrics.metric,
        metrics.value as observed_to_expected,
        max(case when metrics.metric = 'n_positives' then metrics.value end) over () as n_positives

    from active
    left join metrics
        on active.model_version = metrics.model_version

)

select * from checked
where
    metric is null
    or (
        metric = 'observed_to_expected'
        and n_positives >= 20
        and observed_to_expected not between 0.8 and 1.25
    )
    or (
        metric like 'observed_to_expected_decile_%'
        and n_positives >= 400
        and observed_to_expected not between 0.8 and 1.25
    )
