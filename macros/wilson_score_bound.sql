{% macro wilson_score_bound(successes, trials, side, z=1.959963984540054) %}
    {#-
        One bound of the Wilson score interval of successes / trials (side
        'lower' or 'upper'; z = 1.96 for 95%): (x + z^2/2 -/+ z sqrt(x (n - x) / n
        + z^2/4)) / (n + z^2). Stays in [0, 1], also at 0 or n successes; null
        when trials is 0. Reference: lead_scoring.monitoring.experiment.wilson_interval.
    -#}
    {%- if side not in ('lower', 'upper') -%}
        {{ exceptions.raise_compiler_error("wilson_score_bound: side must be 'lower' or 'upper', got " ~ side) }}
    {%- endif -%}
    (
        (
            cast({{ successes }} as double) + {{ z }} * {{ z }} / 2.0
            {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt(
                cast({{ successes }} as double) * (cast({{ trials }} as double) - cast({{ successes }} as double))
                / nullif(cast({{ trials }} as double), 0)
                + {{ z }} * {{ z }} / 4.0
            )
        )
        / (cast({{ trials }} as double) + {{ z }} * {{ z }})
    )
{%- endmacro %}
