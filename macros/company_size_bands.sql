{% macro company_size_bands() %}
    {#- the employee bands of the raw data contract, smallest first: a band's ordinal is its position (1 ..) -#}
    {{ return(['1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000', '5001+']) }}
{% endmacro %}
