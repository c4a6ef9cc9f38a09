{% macro attribution_models(kind='all') %}
    {#-
        The attribution models of fct_channel_attribution, in display order.
        kind: 'rule' (computed in SQL per touch), 'data_driven' (dbt Python
        models over fct_conversion_paths) or 'all'.
    -#}
    {% set rule = ['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay'] %}
    {% set data_driven = ['markov', 'shapley'] %}
    {% if kind == 'rule' %}
        {{ return(rule) }}
    {% elif kind == 'data_driven' %}
        {{ return(data_driven) }}
    {% elif kind == 'all' %}
        {{ return(rule + data_driven) }}
    {% endif %}
    {{ exceptions.raise_compiler_error("attribution_models: kind must be 'rule', 'data_driven' or 'all', got '" ~ kind ~ "'") }}
{% endmacro %}
