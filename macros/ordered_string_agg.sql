{% macro ordered_string_agg(expression, order_by, separator) %}
    {#-
        Aggregate: the values of expression joined by separator (a string
        literal's content, e.g. ' > '), in the order of order_by (a list of
        expressions, ascending; or a single expression). Nulls are skipped.
    -#}
    {% if order_by is string %}{% set order_by = [order_by] %}{% endif %}
    {% if not order_by %}
        {{ exceptions.raise_compiler_error("ordered_string_agg: give at least one order_by expression") }}
    {% endif %}
    {{ return(adapter.dispatch('ordered_string_agg', 'lead_scoring')(expression, order_by, separator)) }}
{% endmacro %}

{% macro default__ordered_string_agg(expression, order_by, separator) -%}
    string_agg({{ expression }}, '{{ separator }}' order by {{ order_by | join(', ') }})
{%- endmacro %}

{#- Spark has no ordered aggregate: sort a list of structs (compared field by field) -#}
{% macro spark__ordered_string_agg(expression, order_by, separator) -%}
    array_join(
        transform(
            array_sort(collect_list(named_struct(
                {%- for key in order_by %}'sort_key_{{ loop.index }}', {{ key }}, {% endfor -%}
                'value', {{ expression }}
            ))),
            entry -> entry.value
        ),
        '{{ separator }}'
    )
{%- endmacro %}
