{% macro last_non_null_value(expression, partition_by, order_by) %}
    {#-
        Window expression: the last non-null value of expression among the rows
        of the partition up to and including the current one, in order_by order.
    -#}
    {{ return(adapter.dispatch('last_non_null_value', 'lead_scoring')(expression, partition_by, order_by)) }}
{% endmacro %}

{% macro default__last_non_null_value(expression, partition_by, order_by) -%}
    last_value({{ expression }} ignore nulls) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and current row
    )
{%- endmacro %}

{% macro spark__last_non_null_value(expression, partition_by, order_by) -%}
    last({{ expression }}, true) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and current row
    )
{%- endmacro %}
