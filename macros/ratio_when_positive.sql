{% macro ratio_when_positive(numerator, denominator) -%}
    {#- numerator / denominator as a double when the denominator is positive, else null (a rate of nothing is unknown, not 0) -#}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}
