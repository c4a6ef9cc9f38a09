-- Warns when the score or a feature of the current scoring run drifted past
-- var drift_psi_major against the model's test split.

{{ config(severity='warn') }}

select
    model_version,
    scored_at,
    drift_scope,
    feature,
    psi

from {{ ref('ml_drift') }}
where drift_level = 'major'
