{% test unique_combination_of_columns(model, combination_of_columns) %}
    {#- combinations of the columns that occur more than once -#}
    {% if not combination_of_columns %}
        {{ exceptions.raise_compiler_error("unique_combination_of_columns: give combination_of_columns") }}
    {% endif %}

with

validation_errors as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from validation_errors
{% endtest %}
