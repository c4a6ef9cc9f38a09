{% macro previous_lead_features() %}
    {#-
        The fct_lead_features table an earlier run stored, which
        int_lead_feature_recompute compares with this run's inputs; none (so:
        recompute every snapshot) on --full-refresh, on the lint target (in memory:
        sqlfluff, docs, the real-time API's feature program), at parse time, when
        on an engine that rebuilds the snapshot tables in full (rebuilds_in_full:
        Spark), when the table does not exist, when it predates column input_fingerprint_id, or
        when the three snapshot tables were not written by the same run (macro
        feature_snapshot_stamp).
        Read with adapter.get_relation, not ref(): a ref would be a cycle (doc
        `incremental_feature_snapshots`).
    -#}
    {%- if not execute or target.name == 'lint' or flags.FULL_REFRESH or rebuilds_in_full() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes['model.lead_scoring.fct_lead_features'] -%}
    {%- set relation = adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias
    ) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- if 'input_fingerprint_id' not in columns -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for model in ['fct_lead_features', 'int_lead_snapshots_matched', 'int_lead_activity_partial_days'] -%}
        {%- do names.append(sql_string(graph.nodes['model.lead_scoring.' ~ model].alias)) -%}
    {%- endfor -%}
    {%- set stamps = run_query(
        "select count(*), count(distinct comment), count(comment) from duckdb_tables()"
        ~ " where database_name = " ~ sql_string(node.database)
        ~ " and schema_name = " ~ sql_string(node.schema) ~ " and table_name in (" ~ names | join(', ') ~ ")"
    ).rows[0] -%}
    {%- if stamps[0] != 3 or stamps[1] != 1 or stamps[2] != 3 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}
