{% macro experiment_buckets() %}
    {#- the resolution of the A/B test's arm assignment: a lead's bucket is 0 .. 9999, so the rules share is read to 1/10000 -#}
    {{ return(10000) }}
{% endmacro %}
