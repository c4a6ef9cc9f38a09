{% test expression_is_true(model, expression, column_name=none) %}
    {#- rows for which the boolean SQL expression is not true -#}
    {% if not expression %}
        {{ exceptions.raise_compiler_error("expression_is_true: give an expression") }}
    {% endif %}

with

validation_errors as (

    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)

)

select * from validation_errors
{% endtest %}
