{% macro row_hash(relation, salt) %}
    {{ return(adapter.dispatch('row_hash', 'lead_scoring')(relation, salt)) }}
{% endmacro %}

{#- a hash of a whole row of `relation` (a table alias) and the string literal `salt`:
    a fingerprint, compared only with one computed by the same engine -#}
{% macro default__row_hash(relation, salt) -%}
    hash({{ relation }}, {{ salt }})
{%- endmacro %}

{#- Spark's hash() takes columns, not a row: the row as a struct -#}
{% macro spark__row_hash(relation, salt) -%}
    hash(struct({{ relation }}.*), {{ salt }})
{%- endmacro %}
