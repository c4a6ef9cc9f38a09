-- One row per touch of a journey's path (int_attribution_paths): the touch,
-- its place in the path, how long before the end of the path it happened, and
-- the credit the five rule-based models give it when the journey converted.
-- The credits of a conversion add up to 1 in every model.

with

paths as (

    select * from {{ ref('int_attribution_paths') }}
    where has_path

),

touches as (

    select * from {{ ref('int_marketing_touches') }}

),

report_window as (

    select * from {{ ref('int_attribution_report_window') }}

),

path_touches as (

    select
        paths.lead_id,
        touches.touch_id,
        touches.channel,
        touches.utm_campaign,
        touches.touch_type,
        paths.conversion_value,
        paths.touch_count,
        paths.is_conversion,
        paths.is_in_report_window,
        touches.occurred_at,
        paths.converted_at,
        paths.path_end_at,
        cast(row_number() over (partition by paths.lead_id order by touches.touch_number) as bigint) as touch_position,
        count(*) over (partition by paths.lead_id, touches.channel) as channel_touch_count,
        {{ seconds_between('touches.occurred_at', 'paths.path_end_at') }} / 86400.0 as days_before_path_end

    from paths
    inner join touches
        on
            paths.lead_id = touches.lead_id
            and paths.lookback_start_at <= touches.occurred_at
            and paths.path_end_at >= touches.occurred_at

),

weighted as (

    select
        path_touches.*,
        power(
            2.0, -path_touches.days_before_path_end / report_window.time_decay_half_life_days
        ) as time_decay_weight

    from path_touches
    cross join report_window

),

credits as (

    select
        ---------- ids
        lead_id,
        touch_id,

        ---------- strings
        channel,
        utm_campaign,
        touch_type,

        ---------- numerics
        touch_position,
        touch_count,
        channel_touch_count,
        days_before_path_end,
        time_decay_weight,
        conversion_value,
        -- credits are doubles; null for touches of open journeys
        cast(
            case when is_conversion then case when touch_position = 1 then 1 else 0 end end as double
        ) as first_touch_credit,
        cast(
            case when is_conversion then case when touch_position = touch_count then 1 else 0 end end as double
        ) as last_touch_credit,
        case when is_conversion then 1 / cast(touch_count as double) end as linear_credit,
        case
            when not is_conversion then null
            when touch_count = 1 then cast(1 as double)
            when touch_count = 2 then cast(0.5 as double)
            when touch_position = 1 or touch_position = touch_count then cast(0.4 as double)
            else cast(0.2 as double) / (touch_count - 2)
        end as position_based_credit,
        case
            when is_conversion then time_decay_weight / sum(time_decay_weight) over (partition by lead_id)
        end as time_decay_credit,

        ---------- booleans
        is_conversion,
        is_in_report_window,
        touch_position = 1 as is_first_touch,
        touch_position = touch_count as is_last_touch,

        ---------- timestamps
        occurred_at,
        converted_at,
        path_end_at

    from weighted

)

select * from credits
