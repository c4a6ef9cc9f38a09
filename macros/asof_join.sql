{% macro asof_join(left_relation, right_relation, partition_column, left_order, right_order, right_columns, column_prefix='') %}
    {#-
        A point-in-time ("as of") left join, as a complete select statement:
        every row of left_relation, with right_columns of the right_relation row
        of the same partition_column whose right_order is the greatest one
        <= left_order (an expression over left_relation's columns, qualified by
        its name); right columns are null when there is none. Selected as
        <column_prefix><column>. right_order must be unique within a partition.
    -#}
    {% if not right_columns %}
        {{ exceptions.raise_compiler_error("asof_join: give right_columns") }}
    {% endif %}
    {{ return(adapter.dispatch('asof_join', 'lead_scoring')(
        left_relation, right_relation, partition_column, left_order, right_order, right_columns, column_prefix
    )) }}
{% endmacro %}

{#- DuckDB has a native ASOF join; var portable_asof_join asks for the portable form instead
    (the real-time API's feature program, lead_scoring.serve.program: DuckDB 2.0 fails re-running
    a cached plan that holds an ASOF join) -#}
{% macro default__asof_join(left_relation, right_relation, partition_column, left_order, right_order, right_columns, column_prefix) %}
    {%- if var('portable_asof_join') | string | lower in ('true', '1') %}
        {{ return(lead_scoring.window_asof_join(
            left_relation, right_relation, partition_column, left_order, right_order, right_columns, column_prefix
        )) }}
    {%- endif %}
    select
        {{ left_relation }}.*,
        {%- for column in right_columns %}
        {{ right_relation }}.{{ column }} as {{ column_prefix }}{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ left_relation }}
    asof left join {{ right_relation }}
        on
            {{ left_relation }}.{{ partition_column }} = {{ right_relation }}.{{ partition_column }}
            and {{ left_order }} >= {{ right_relation }}.{{ right_order }}
{% endmacro %}

{#-
    Engines without ASOF joins (Spark): union the distinct lookup keys with the
    right keys, take the running max of the right key over both in key order
    (right keys first on ties, so a key equal to the lookup matches), then join
    back on equality. Plain SQL: it runs on DuckDB as well, which is how it is tested.
-#}
{% macro spark__asof_join(left_relation, right_relation, partition_column, left_order, right_order, right_columns, column_prefix) %}
    {{ return(lead_scoring.window_asof_join(
        left_relation, right_relation, partition_column, left_order, right_order, right_columns, column_prefix
    )) }}
{% endmacro %}
