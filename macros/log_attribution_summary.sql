{% macro log_attribution_summary(relation) %}
    {#-
        Post-hook of fct_channel_attribution: one log line with what was
        attributed over which window, and a plain warning for degenerate input
        (no conversion with a path, no spend, a single channel), which builds
        empty or null results rather than failing. Returns no SQL.
    -#}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set result = run_query(
        "select count(*), min(window_start_date), max(window_end_date), "
        ~ "coalesce(max(conversions_with_path), 0), coalesce(max(conversions_without_path), 0), "
        ~ "count(distinct channel), count(distinct channel) filter (where attributed_conversions > 0), "
        ~ "sum(spend) filter (where attribution_model = 'last_touch'), "
        ~ "coalesce(sum(attributed_revenue) filter (where attribution_model = 'last_touch'), 0) "
        ~ "from " ~ relation
    ) %}
    {% set row = result.rows[0] %}
    {% set n_rows, window_start, window_end = row[0], row[1], row[2] %}
    {% set with_path, without_path, n_channels, n_credited, spend, revenue = row[3], row[4], row[5], row[6], row[7], row[8] %}
    {% if n_rows == 0 %}
        {{ log("attribution: WARNING no conversion with a touch in the report window and no ad spend: "
            ~ relation.identifier ~ " is empty (check var attribution_window_days, var scoring_date and the raw files).",
            info=true) }}
        {{ return('') }}
    {% endif %}
    {{ log("attribution: report window " ~ (window_start or 'start of data') ~ " to " ~ window_end ~ ": "
        ~ with_path ~ " conversion(s) with a path attributed by 7 models, " ~ without_path
        ~ " without a touch in the lookback (not attributed); " ~ n_channels ~ " channel(s); spend "
        ~ ('%.2f' | format(spend) if spend is not none else 'none') ~ ", attributed revenue "
        ~ ('%.2f' | format(revenue)), info=true) }}
    {% if with_path == 0 %}
        {{ log("attribution: WARNING no conversion with a touch in the report window: attributed conversions "
            ~ "are 0 and cost_per_conversion is null.", info=true) }}
    {% endif %}
    {% if spend is none %}
        {{ log("attribution: WARNING no ad spend in the report window: spend, roas and cost_per_conversion "
            ~ "are null.", info=true) }}
    {% endif %}
    {% if n_credited == 1 %}
        {{ log("attribution: note: a single channel has conversions; every model gives it 100%.", info=true) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}
