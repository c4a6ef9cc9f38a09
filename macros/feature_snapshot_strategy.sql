{% macro feature_snapshot_strategy() %}
    {{ return(adapter.dispatch('feature_snapshot_strategy', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__feature_snapshot_strategy() %}
    {#-
        The strategy of the feature snapshot tables (int_lead_snapshots_matched,
        int_lead_activity_partial_days, fct_lead_features; doc
        `incremental_feature_snapshots`): their pre-hook (macro
        feature_recompute_delete) deletes every row int_lead_feature_recompute
        does not declare final, so the batch is appended. delete+insert would
        delete only the keys present in the batch: a scoring snapshot of an earlier
        run, or a snapshot that no longer exists, would linger.
    -#}
    {{ return('append') }}
{% endmacro %}
