-- One row per distinct path of the report window, in the input format of the
-- standard Markov attribution tools (ChannelAttribution): how many journeys
-- with this path converted (conversions dated in the report window), their
-- revenue, and how many ended without a conversion (leads still open at the
-- scoring time).

with

paths as (

    select * from {{ ref('int_attribution_paths') }}
    where has_path and is_in_report_window

),

final as (

    select
        path,
        max(touch_count) as touch_count,
        max(channel_count) as channel_count,
        count(*) filter (where is_conversion) as total_conversions,
        coalesce(sum(conversion_value) filter (where is_conversion), 0) as total_conversion_value,
        count(*) filter (where not is_conversion) as total_null,
        count(*) as total_journeys,
        count(*) filter (where is_conversion) / cast(count(*) as double) as conversion_rate

    from paths
    group by path

)

select * from final
