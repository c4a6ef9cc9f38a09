-- Warns when the score or a feature of the current scoring run drifted in a
-- way that counts for the retrain verdict: PSI above var drift_psi_major
-- against the model's age-weighted recent labeled history AND significant
-- after Benjamini-Hochberg at var drift_fdr, the feature not being one that
-- grows with time by construction (those are reported in ml_drift only).

{{ config(severity='warn') }}

select
    model_version,
    scored_at,
    drift_scope,
    feature,
    psi,
    psi_unweighted,
    p_value_adjusted,
    verdict_note

from {{ ref('ml_drift') }}
where counts_for_verdict
