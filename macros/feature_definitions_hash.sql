{% macro feature_definitions_hash() %}
    {#-
        An md5 of what defines a feature snapshot besides the data: the source of
        fct_lead_features and of every model it reads (recursively), and the vars of
        the grid, the labels and the milestones. A changed model or var changes
        every lead's fingerprint in int_lead_feature_recompute, so the next run
        recomputes every snapshot instead of mixing old and new definitions. dbt's
        graph holds no macro source: a changed macro or seed that keeps the columns
        needs `dbt build --full-refresh` (doc `incremental_feature_snapshots`).
    -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [
        'snapshot_interval_days=' ~ var('snapshot_interval_days'),
        'prediction_horizon_days=' ~ var('prediction_horizon_days'),
        'rapid_progression_days=' ~ var('rapid_progression_days'),
    ] -%}
    {%- set pending = ['model.lead_scoring.fct_lead_features'] -%}
    {%- set seen = [] -%}
    {#- a breadth-first walk over depends_on (Jinja has no while: the list grows as it is read) -#}
    {%- for unique_id in pending if unique_id not in seen -%}
        {%- do seen.append(unique_id) -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node is not none -%}
            {%- do parts.append(unique_id ~ ':' ~ (node.raw_code or '')) -%}
            {%- for dependency in node.depends_on.nodes -%}
                {%- do pending.append(dependency) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(parts | sort | join('\n'))) }}
{% endmacro %}
