{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) %}
    {#-
        dbt.dateadd on Spark: dbt-spark's own version goes through to_unix_timestamp, so
        it drops the fraction of a second (a lookback from 23:59:56.156 started at
        23:59:56, and int_attribution_paths differed from DuckDB's). timestampadd keeps the
        microseconds; a date comes back as a timestamp at midnight, as on DuckDB.
    -#}
    timestampadd({{ datepart | upper }}, cast({{ interval }} as bigint), {{ from_date_or_timestamp }})
{% endmacro %}
