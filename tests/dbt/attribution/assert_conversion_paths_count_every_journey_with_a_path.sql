-- fct_conversion_paths holds every journey of the report window that has a
-- path, once: converted ones in total_conversions (with their value), open
-- ones in total_null.

with

conversion_paths as (

    select * from {{ ref('fct_conversion_paths') }}

),

paths as (

    select * from {{ ref('int_attribution_paths') }}
    where has_path and is_in_report_window

),

expected as (

    select
        count(*) filter (where is_conversion) as conversions,
        count(*) filter (where not is_conversion) as nulls,
        coalesce(sum(conversion_value) filter (where is_conversion), 0) as conversion_value,
        count(distinct path) as distinct_paths

    from paths

),

actual as (

    select
        coalesce(sum(total_conversions), 0) as conversions,
        coalesce(sum(total_null), 0) as nulls,
        coalesce(sum(total_conversion_value), 0) as conversion_value,
        count(*) as distinct_paths

    from conversion_paths

),

validation_errors as (

    select
        expected.conversions as expected_conversions,
        actual.conversions,
        expected.nulls as expected_nulls,
        actual.nulls,
        expected.distinct_paths as expected_paths,
        actual.distinct_paths

    from expected
    cross join actual
    where
        expected.conversions != actual.conversions
        or expected.nulls != actual.nulls
        or expected.distinct_paths != actual.distinct_paths
        or abs(expected.conversion_value - actual.conversion_value) > 1e-6 * greatest(1, expected.conversion_value)

)

select * from validation_errors
