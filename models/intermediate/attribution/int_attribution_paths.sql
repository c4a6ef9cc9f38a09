-- One row per lead: its journey for attribution. A converted lead's journey
-- ends at its conversion, an open lead's at the scoring time; its path is its
-- touches (int_marketing_touches) in the var attribution_lookback_days days
-- before that end, in time order — none after it. A lead without a touch in
-- that window keeps its row with has_path = false and no path, so that it is
-- counted, not lost.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

touches as (

    select * from {{ ref('int_marketing_touches') }}

),

report_window as (

    select * from {{ ref('int_attribution_report_window') }}

),

journeys as (

    select
        leads.lead_id,
        conversions.lead_id is not null as is_conversion,
        conversions.converted_at,
        conversions.amount as conversion_value,
        coalesce(conversions.converted_at, report_window.scoring_at) as path_end_at,
        {{ dbt.dateadd(
            'day',
            -var('attribution_lookback_days'),
            'coalesce(conversions.converted_at, report_window.scoring_at)'
        ) }} as lookback_start_at,
        coalesce(
            conversions.lead_id is null
            or cast(conversions.converted_at as date)
            between report_window.window_start_date and report_window.window_end_date,
            false
        ) as is_in_report_window

    from leads
    cross join report_window
    left join conversions
        on leads.lead_id = conversions.lead_id

),

journey_touches as (

    select
        journeys.lead_id,
        touches.channel,
        touches.touch_number,
        touches.occurred_at

    from journeys
    inner join touches
        on
            journeys.lead_id = touches.lead_id
            and journeys.lookback_start_at <= touches.occurred_at
            and journeys.path_end_at >= touches.occurred_at

),

paths as (

    select
        lead_id,
        {{ ordered_string_agg('channel', 'touch_number', ' > ') }} as path,
        count(*) as touch_count,
        count(distinct channel) as channel_count,
        min(occurred_at) as first_touch_at,
        max(occurred_at) as last_touch_at

    from journey_touches
    group by lead_id

),

final as (

    select
        ---------- ids
        journeys.lead_id,

        ---------- strings
        paths.path,

        ---------- numerics
        journeys.conversion_value,
        coalesce(paths.touch_count, 0) as touch_count,
        coalesce(paths.channel_count, 0) as channel_count,

        ---------- booleans
        journeys.is_conversion,
        paths.lead_id is not null as has_path,
        journeys.is_in_report_window,

        ---------- timestamps
        journeys.converted_at,
        journeys.lookback_start_at,
        journeys.path_end_at,
        paths.first_touch_at,
        paths.last_touch_at

    from journeys
    left join paths
        on journeys.lead_id = paths.lead_id

)

select * from final
