{% macro scoring_at() %}
    {{ return(adapter.dispatch('scoring_at', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__scoring_at() %}
    {#-
        "Now" of the run, as a SQL timestamp literal. Var scoring_date if set
        (a bare date means midnight at its start, UTC); else the latest
        occurred_at in the raw touchpoints that is not in the future of the
        wall clock (a year-2099 typo must not become "now").
    -#}
    {%- set configured = var('scoring_date', none) -%}
    {%- if configured is not none and (configured | string | trim) != '' -%}
        {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?$', configured | string | trim) -%}
            {%- do exceptions.raise_compiler_error(
                "var scoring_date='" ~ configured ~ "' is not a date or timestamp (expected e.g. 2025-06-30 or 2025-06-30 12:00:00)."
            ) -%}
        {%- endif -%}
        {{- return("cast('" ~ (configured | string | trim) ~ "' as timestamp)") -}}
    {%- elif execute and target.name != 'lint' -%}
        {#- the lint target (sqlfluff, docs) never reads data. The on-run-start hook
            stores the default once per run in raw.run_context, so the models do not
            each scan the touchpoints; without it (e.g. dbt compile) scan them here. -#}
        {%- set run_context = adapter.get_relation(database=target.database, schema='raw', identifier='run_context') -%}
        {%- set result = none -%}
        {%- if run_context is not none -%}
            {%- set result = run_query(
                "select latest_occurred_at from raw.run_context where raw_data_path = "
                ~ sql_string(var('raw_data_path'))
            ) -%}
        {%- endif -%}
        {%- if result is none or (result.rows | length) == 0 -%}
            {%- set result = run_query(latest_occurred_at_sql(source('web', 'touchpoints'))) -%}
        {%- endif -%}
        {%- set latest = result.columns[0].values()[0] -%}
        {%- if latest is none -%}
            {%- do exceptions.raise_compiler_error(
                "Cannot default var scoring_date: file touchpoints in var raw_data_path has no valid occurred_at. Set --vars '{scoring_date: 2025-06-30}'."
            ) -%}
        {%- endif -%}
        {{- return("cast('" ~ latest ~ "' as timestamp)") -}}
    {%- else -%}
        {{- return(utc_now()) -}}
    {%- endif -%}
{% endmacro %}

{% macro latest_occurred_at_sql(touchpoints) -%}
    {#- the default "now": the latest parseable occurred_at that is not in the wall clock's future -#}
    select max({{ try_cast_utc_timestamp('occurred_at') }}) as latest_occurred_at
    from {{ touchpoints }}
    where {{ try_cast_utc_timestamp('occurred_at') }} <= {{ utc_now() }}
{%- endmacro %}
