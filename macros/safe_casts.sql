{% macro try_cast_utc_timestamp(expression) %}
    {{ return(adapter.dispatch('try_cast_utc_timestamp', 'lead_scoring')(expression)) }}
{% endmacro %}

{% macro default__try_cast_utc_timestamp(expression) -%}
    {#-
        A raw timestamp as UTC wall time, or null when it does not parse. Text
        with a UTC offset or a Z ('2025-01-01T10:00:00+02:00', common in CSV
        exports) is converted to UTC (08:00); text without one, and typed
        timestamps, are taken as UTC already. Independent of the session's
        time zone.
    -#}
    case
        {# a typed column (Parquet) never holds an offset: no text work per row #}
        when typeof({{ expression }}) <> 'VARCHAR' then try_cast({{ expression }} as timestamp)
        when regexp_matches(trim(cast({{ expression }} as varchar)), '\d:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$')
            then timezone('UTC', try_cast(trim(cast({{ expression }} as varchar)) as timestamptz))
        else try_cast({{ expression }} as timestamp)
    end
{%- endmacro %}

{% macro try_cast_finite_double(expression) %}
    {{ return(adapter.dispatch('try_cast_finite_double', 'lead_scoring')(expression)) }}
{% endmacro %}

{% macro default__try_cast_finite_double(expression) -%}
    {#- A raw number as a double, or null when it does not parse or is not finite
        (inf, -inf, NaN: a spreadsheet's overflow or a bad export). -#}
    case
        when isfinite(try_cast({{ expression }} as double)) then try_cast({{ expression }} as double)
    end
{%- endmacro %}

{% macro utc_now() %}
    {{ return(adapter.dispatch('utc_now', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__utc_now() -%}
    {#- The wall clock in UTC, whatever the machine's time zone. -#}
    timezone('UTC', current_timestamp)
{%- endmacro %}

{% macro raise_error(message_sql) %}
    {{ return(adapter.dispatch('raise_error', 'lead_scoring')(message_sql)) }}
{% endmacro %}

{% macro default__raise_error(message_sql) -%}
    {#- Fails the query with the message (a SQL string expression): one clear line
        in the dbt output instead of a count of failing rows. -#}
    error({{ message_sql }})
{%- endmacro %}

{#- Spark: the session time zone is UTC (profile target spark), so a cast reads text with an
    offset or a Z as that instant and text without one, and typed timestamps, as UTC. -#}
{% macro spark__try_cast_utc_timestamp(expression) -%}
    try_cast(trim(cast({{ expression }} as string)) as timestamp)
{%- endmacro %}

{% macro spark__try_cast_finite_double(expression) -%}
    case
        when
            not isnan(try_cast({{ expression }} as double))
            and abs(try_cast({{ expression }} as double)) < double('Infinity')
            then try_cast({{ expression }} as double)
    end
{%- endmacro %}

{% macro spark__utc_now() -%}
    current_timestamp()
{%- endmacro %}

{% macro spark__raise_error(message_sql) -%}
    raise_error({{ message_sql }})
{%- endmacro %}
