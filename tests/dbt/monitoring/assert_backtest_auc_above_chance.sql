-- Error: a matured scoring run with enough conversions to judge (at least 20)
-- whose realized AUC is below 0.5 ranked worse than chance; scores built on it
-- must not reach the sales team unchecked.

{{ config(severity='error') }}

select
    scored_at,
    model_version,
    n_converted,
    auc

from {{ ref('ml_backtest') }}
where
    score_band = 'all'
    and n_converted >= 20
    and auc < 0.5
