{% macro check_vars() %}
    {#-
        Runs first in on-run-start: every numeric var is a number in its range
        (or null where null has a meaning), so that no value reaches SQL unchecked
        and a typo stops the run with one line naming the var, instead of a SQL
        error deep in a model. Strings that reach SQL are quoted where they are
        used (sql_string); raw_data_path and scoring_date are checked by
        register_raw_sources and scoring_at.
    -#}
    {#- name: (whole number?, minimum, maximum, null allowed?) -#}
    {% set specs = {
        'prediction_horizon_days': (true, 1, 3650, false),
        'session_timeout_minutes': (true, 1, 1440, false),
        'snapshot_interval_days': (true, 1, 365, false),
        'attribution_lookback_days': (true, 1, 3650, false),
        'attribution_time_decay_half_life_days': (false, 0.001, 3650, false),
        'attribution_window_days': (true, 1, 36500, true),
        'rapid_progression_days': (true, 1, 3650, false),
        'raw_malformed_share_limit': (false, 0, 1, false),
        'ml_min_positive_labels': (true, 1, 1000000000000, false),
        'ml_retrain_every_days': (true, 0, 3650, false),
        'ml_train_max_rows': (true, 1000, 1000000000, false),
        'drift_psi_moderate': (false, 0, 100, false),
        'drift_psi_major': (false, 0, 100, false),
        'drift_fdr': (false, 0, 1, false),
        'health_max_auc_drop': (false, 0, 1, false),
        'health_max_calibration_ratio': (false, 1, 1000, false),
        'health_max_flagged_segments': (true, 0, 1000000, false),
        'channel_mix_min_leads': (true, 1, 1000000000, false),
        'lead_bucket_size': (true, 1000, 1000000000, false),
    } %}
    {% for name, spec in specs.items() %}
        {% set whole, low, high, nullable = spec %}
        {% set value = var(name, none) %}
        {% set shown = value if value is not string else "'" ~ value ~ "'" %}
        {% if value is none %}
            {% if not nullable %}
                {% do exceptions.raise_compiler_error("var " ~ name ~ " must be set (a " ~ ('whole number' if whole else 'number') ~ " from " ~ low ~ " to " ~ high ~ "), got null") %}
            {% endif %}
        {% elif value is sameas true or value is sameas false or value is not number
            or (whole and (value | int) != value) or value < low or value > high %}
            {% do exceptions.raise_compiler_error(
                "var " ~ name ~ "=" ~ shown ~ " is not a " ~ ('whole number' if whole else 'number')
                ~ " from " ~ low ~ " to " ~ high ~ (' (or null)' if nullable else '')
                ~ ". Fix it in dbt_project.yml or --vars."
            ) %}
        {% endif %}
    {% endfor %}
    {#- lead_buckets: 'auto' or a whole number >= 1 -#}
    {% set buckets = var('lead_buckets', 'auto') %}
    {% if not (buckets is string and buckets | trim | lower == 'auto')
        and (buckets is sameas true or buckets is sameas false or buckets is not number
             or (buckets | int) != buckets or buckets < 1) %}
        {% do exceptions.raise_compiler_error(
            "var lead_buckets=" ~ buckets ~ " is not 'auto' or a whole number >= 1. Fix it in dbt_project.yml or --vars."
        ) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}
