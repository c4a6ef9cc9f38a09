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

{% macro spark__incremental_strategy() %}
    {#- Spark with Parquet tables cannot delete rows (delete+insert and merge need Delta):
        the models that grow with the data rebuild in full there (rebuilds_in_full), and
        append is only named to pass dbt-spark's check of the strategy. -#}
    {{ return('append') }}
{% endmacro %}

{% macro rebuilds_in_full() %}
    {{ return(adapter.dispatch('rebuilds_in_full', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__rebuilds_in_full() %}
    {#- config full_refresh of the incremental models: none = as the run says (incremental
        unless --full-refresh). -#}
    {{ return(none) }}
{% endmacro %}

{% macro spark__rebuilds_in_full() %}
    {#- Spark (Parquet): every run rebuilds the incremental models in full, as
        --full-refresh does on DuckDB; the result is the same table (doc incremental_ledger). -#}
    {{ return(true) }}
{% endmacro %}

{% macro run_started_at_timestamp(whole_seconds=false) %}
    {#- The start of this dbt invocation as a SQL timestamp (UTC): when an
        incremental partition was last recomputed, so that the models built on
        it find the partitions that changed since their own last run.
        whole_seconds: without the fraction (when a history row was recorded). -#}
    {%- set layout = "%Y-%m-%d %H:%M:%S" if whole_seconds else "%Y-%m-%d %H:%M:%S.%f" -%}
    cast('{{ run_started_at.strftime(layout) }}' as timestamp)
{%- endmacro %}

{% macro rewritten_leads(relation) %}
    {#- The leads relation (int_touchpoints_sessionized) rewrote after this
        model's latest source_loaded_at: the batch_leads of an incremental model
        downstream of it. Every row relation writes carries the start of the run
        that wrote it as source_loaded_at, so a lead it recomputed for any reason
        (its own rows, or a session shared with a changed lead) is in the batch. -#}
    select distinct lead_id
    from {{ relation }}
    where source_loaded_at > (
        select coalesce(max(source_loaded_at), cast('0001-01-01' as timestamp)) from {{ this }}
    )
{% endmacro %}

{% macro delete_stale_lead_rows(upstream) %}
    {#- Post-hook of a model rebuilt by rewritten_leads(upstream): deletes the
        rows this run did not write again of the leads upstream rewrote in this
        run (a lead left with no session or no touch), and the rows of leads
        gone from upstream. Rows written by this run carry its start as
        source_loaded_at, as their upstream rows do; a full build deletes
        nothing, so it runs nothing (nor on Spark, whose Parquet tables
        rebuild in full and cannot delete: rebuilds_in_full). -#}
    {%- if is_incremental() %}
    delete from {{ this }}
    where
        source_loaded_at < {{ run_started_at_timestamp() }}
        and lead_id not in (
            select upstream.lead_id from {{ upstream }} as upstream
            where upstream.source_loaded_at < {{ run_started_at_timestamp() }}
        )
    {%- endif %}
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
