{% macro feature_snapshot_stamp() %}
    {{ return(adapter.dispatch('feature_snapshot_stamp', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__feature_snapshot_stamp() %}
    {#-
        Post-hook of the incremental feature snapshot tables: marks the table, in
        the transaction of its rows, with the dbt invocation that wrote it. Macro
        previous_lead_features recomputes every snapshot when the three tables
        carry different marks (a run that stopped after int_lead_snapshots_matched
        but before fct_lead_features, or a selection of one of them): their stored
        rows then come from different runs.
    -#}
    comment on table {{ this }} is '{{ invocation_id }}'
{%- endmacro %}

{% macro spark__feature_snapshot_stamp() %}
    {#- Spark: the snapshot tables rebuild in full at every run (rebuilds_in_full), so
        previous_lead_features never compares the marks; no mark is written. -#}
    {{ return('') }}
{% endmacro %}
