{% macro incremental_strategy() %}
    {{ return(adapter.dispatch('incremental_strategy', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__incremental_strategy() %}
    {#-
        The strategy of the models that grow with the data (doc
        `incremental_ledger`): each run replaces whole partitions (a lead's
        rows) keyed by unique_key, so a delete of the partitions in the batch
        and an insert of the batch.
    -#}
    {{ return('delete+insert') }}
{% endmacro %}

{% macro run_started_at_timestamp() %}
    {#- The start of this dbt invocation as a SQL timestamp (UTC): when an
        incremental partition was last recomputed, so that the models built on
        it find the partitions that changed since their own last run. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro incremental_batch_filter(column, keyword='where') %}
    {#- In an incremental run, keep the rows of the leads in CTE batch_leads
        (the model defines it); in a full build, every row. keyword: 'where'
        or 'and' (after a where clause). -#}
    {%- if is_incremental() -%}
        {{ keyword }} {{ column }} in (select batch_leads.lead_id from batch_leads)
    {%- endif -%}
{% endmacro %}

{% macro inline_cte() %}
    {{ return(adapter.dispatch('inline_cte', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__inline_cte() -%}
    {#- Written between a CTE's name and its body (`name as {{ inline_cte() }} (...)`):
        DuckDB materializes a CTE read more than once, so a CTE holding every
        touchpoint would be copied whole (tens of GB at 1M leads, spilled to disk);
        inlined, each reader scans only the columns and rows it needs. -#}
    not materialized
{%- endmacro %}

{% macro spark__inline_cte() -%}
{%- endmacro %}
