{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true, where=none) %}
    {#- rows whose column falls outside [min_value, max_value] (nulls pass) -#}
    {% if min_value is none and max_value is none %}
        {{ exceptions.raise_compiler_error("accepted_range on " ~ column_name ~ ": give min_value, max_value or both") }}
    {% endif %}

with

validation_errors as (

    select *
    from {{ model }}
    where
        {{ column_name }} is not null
        and not (
            true
            {% if min_value is not none %}
                and {{ column_name }} {{ '>=' if inclusive else '>' }} {{ min_value }}
            {% endif %}
            {% if max_value is not none %}
                and {{ column_name }} {{ '<=' if inclusive else '<' }} {{ max_value }}
            {% endif %}
        )
        {% if where %} and ({{ where }}) {% endif %}

)

select * from validation_errors
{% endtest %}
