{% macro lead_priority(probability, lead_id) %}
    {#-
        Percentile 1-100 of the probability among the rows of the query (one
        scoring run): ceil(100 x rank / rows), rank 1 = the lowest probability,
        so 100 holds the best 1% and every value is non-decreasing in the
        probability; equal probabilities are ordered by lead_id (the smaller id
        ranks higher), so the ranking is total and repeatable. A window
        function over the whole run: call it before any filter.
    -#}
    cast(ceil(
        100.0 * row_number() over (
            order by {{ probability }} asc, {{ lead_id }} desc
        ) / count(*) over ()
    ) as integer)
{% endmacro %}
