{% test not_empty(model) %}
    {#- fails (one row) when the model has no rows -#}

with

validation_errors as (

    select 'no rows' as failure
    where not exists (select 1 from {{ model }})

)

select * from validation_errors
{% endtest %}
