{#-
    Building a wide per-lead model in buckets of leads (fct_lead_features,
    int_lead_activity_daily). At a million leads the feature mart's window joins
    hold a hash table of every lead x day running total per window start, and
    the activity table's windows run over every lead x day; past the memory
    limit they spill (tens of GB) and a linear job takes many times longer.
    Every lead's rows depend on that lead's rows only, so the model is built one
    bucket of leads at a time: the model's statement builds bucket 0, and a
    post-hook (insert_remaining_lead_buckets)
    inserts buckets 1 .. n-1 with the same compiled SQL, each bucket's filter in
    every import CTE (lead_bucket_filter). Each statement holds 1/n of the data.
-#}

{% macro lead_bucket_count(for_model=none) %}
    {#- The buckets of this build: var lead_buckets (a whole number >= 1, checked
        by check_vars), or 'auto' (default): one per lead_bucket_size leads of
        stg_crm__leads, at least 1. One bucket when the table is built
        incrementally (it exists and this is no --full-refresh: its batch is
        small), at parse time and on the in-memory lint target (sqlfluff, docs,
        the real-time API's compile). for_model: the table being built, when
        this is an ephemeral model compiled into it (default: this model). -#}
    {%- if not execute or target.name == 'lint' -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set built = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=for_model or this.identifier
    ) -%}
    {%- if built is not none and built.is_table and not flags.FULL_REFRESH -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set configured = var('lead_buckets', 'auto') | string | trim | lower -%}
    {%- if configured != 'auto' -%}
        {{ return([1, configured | int] | max) }}
    {%- endif -%}
    {%- set size = var('lead_bucket_size') | int -%}
    {%- set counted = run_query('select count(*) from ' ~ ref('stg_crm__leads')) -%}
    {%- set leads = counted.columns[0].values()[0] | int -%}
    {{ return([1, ((leads + size - 1) // size)] | max) }}
{% endmacro %}

{% macro lead_bucket_filter(column, keyword='where', for_model=none) %}
    {#- In an import CTE of a bucketed model: keep the rows of the current bucket
        of leads (`where` or `and`, after a where clause). Renders bucket 0; the
        post-hook swaps the literal for 1 .. n-1. Nothing with one bucket.
        for_model: see lead_bucket_count. -#}
    {%- set buckets = lead_bucket_count(for_model) -%}
    {%- if buckets > 1 -%}
        {{ keyword }} {{ lead_bucket_of(column, buckets) }} = {{ lead_bucket_literal(0) }}
    {%- endif -%}
{% endmacro %}

{% macro lead_bucket_of(column, buckets) %}
    {{ return(adapter.dispatch('lead_bucket_of', 'lead_scoring')(column, buckets)) }}
{% endmacro %}

{% macro default__lead_bucket_of(column, buckets) -%}
    hash({{ column }}) % {{ buckets }}
{%- endmacro %}

{% macro spark__lead_bucket_of(column, buckets) -%}
    pmod(hash({{ column }}), {{ buckets }})
{%- endmacro %}

{% macro lead_bucket_literal(bucket) -%}
    {#- a literal no other SQL of the model holds, so the post-hook can swap it -#}
    cast({{ bucket }} as bigint) /* lead bucket */
{%- endmacro %}

{% macro insert_remaining_lead_buckets() %}
    {#- Post-hook of a bucketed model: insert buckets 1 .. n-1 (see above), n as
        its compiled SQL says (the filters rendered at compile time), so that the
        hook never decides differently from the statement that built bucket 0. -#}
    {%- if not execute or model.compiled_code is not string -%}
        {{ return('') }}
    {%- endif -%}
    {%- set first = lead_bucket_literal(0) -%}
    {%- set counts = modules.re.findall('% (\\d+) = ' ~ modules.re.escape(first), model.compiled_code) | unique | list -%}
    {%- if counts | length > 1 -%}
        {%- do exceptions.raise_compiler_error(model.name ~ ": its lead bucket filters disagree on the number of buckets (" ~ counts | join(', ') ~ ")") -%}
    {%- endif -%}
    {%- set buckets = (counts[0] | int) if counts else 1 -%}
    {%- for bucket in range(1, buckets) %}
        insert into {{ this }} {{ model.compiled_code | replace(first, lead_bucket_literal(bucket)) }};
    {%- endfor -%}
{% endmacro %}
