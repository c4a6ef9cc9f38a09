{% macro last_non_null_value(expression, partition_by, order_by, frame='rows between unbounded preceding and current row') %}
    {#-
        Window expression: the last non-null value of expression among the rows
        of the partition up to and including the current one, in order_by order.
        frame=none keeps the default frame (range up to the current row), the same
        rows when order_by is unique within the partition, and cheaper on DuckDB.
    -#}
    {{ return(adapter.dispatch('last_non_null_value', 'lead_scoring')(expression, partition_by, order_by, frame)) }}
{% endmacro %}

{% macro default__last_non_null_value(expression, partition_by, order_by, frame) -%}
    last_value({{ expression }} ignore nulls) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        {{ frame or '' }}
    )
{%- endmacro %}

{% macro spark__last_non_null_value(expression, partition_by, order_by, frame) -%}
    last({{ expression }}, true) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        {{ frame or '' }}
    )
{%- endmacro %}
