{% macro active_model_test_metrics(metrics) -%}
    {#-
        The active XGBoost model validated by rolling-origin CV (one row; none for the
        rule fallback or an unvalidated model) with the test-fold metrics of
        ml_model_metrics it names as columns: metrics maps a column name to a metric
        name; a missing metric row reads null, so a gate on it fails. The input of
        the model-quality tests under tests/dbt/scoring.
    -#}
    select
        active.model_version,
        {%- for column, metric in metrics.items() %}
            max(test_metrics.value) filter (where test_metrics.metric = '{{ metric }}') as {{ column }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ ref('ml_active_model') }} as active
    left join {{ ref('ml_model_metrics') }} as test_metrics
        on
            active.model_version = test_metrics.model_version
            and test_metrics.split = 'test'
            and test_metrics.model_name = 'xgboost'
    where active.model_name = 'xgboost' and active.validation_method = 'rolling_origin_cv'
    group by active.model_version
{%- endmacro %}
