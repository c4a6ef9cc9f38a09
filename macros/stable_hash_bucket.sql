{% macro stable_hash_bucket(expression, buckets) %}
    {#-
        A deterministic bucket 0 .. buckets - 1 of a string expression, identical on
        every engine: the first 8 hex digits of the MD5 of its UTF-8 bytes read as an
        unsigned 32-bit integer, modulo buckets (e.g. lead 'abc', 7 buckets: md5 starts
        900150983cd24fb0d6963f7d28e17f72, 0x90015098 = 2416005272, mod 7 = 2).
        Reproducible outside SQL: int(hashlib.md5(s.encode()).hexdigest()[:8], 16) % buckets.
    -#}
    {%- if (buckets | int) < 1 %}
        {{ exceptions.raise_compiler_error("stable_hash_bucket: buckets must be a whole number >= 1, got " ~ buckets) }}
    {%- endif %}
    {{ return(adapter.dispatch('stable_hash_bucket', 'lead_scoring')(expression, buckets | int)) }}
{% endmacro %}

{#- DuckDB reads a '0x' hex string cast to bigint exactly (up to 0xffffffff, no sign issue) -#}
{% macro default__stable_hash_bucket(expression, buckets) -%}
    cast(mod(cast('0x' || substr(md5(cast({{ expression }} as varchar)), 1, 8) as bigint), {{ buckets }}) as integer)
{%- endmacro %}

{% macro spark__stable_hash_bucket(expression, buckets) -%}
    cast(pmod(cast(conv(substr(md5(cast({{ expression }} as string)), 1, 8), 16, 10) as bigint), {{ buckets }}) as int)
{%- endmacro %}
