{% macro lead_priority(probability, lead_id, partition_by=none) %}
    {#-
        Percentile 1-100 of the probability among the rows of the query (one
        scoring run): ceil(100 x rank / rows), rank 1 = the lowest probability,
        so 100 holds the best 1% and every value is non-decreasing in the
        probability; equal probabilities are ordered by lead_id (the smaller id
        ranks higher), so the ranking is total and repeatable. A window
        function over the whole run: call it before any filter. partition_by
        (an expression, e.g. the experiment arm) ranks within each of its
        values instead of over the whole run.
    -#}
    cast(ceil(
        100.0 * row_number() over (
            {% if partition_by is not none %}partition by {{ partition_by }} {% endif -%}
            order by {{ probability }} asc, {{ lead_id }} desc
        ) / count(*) over ({% if partition_by is not none %}partition by {{ partition_by }}{% endif %})
    ) as integer)
{% endmacro %}
