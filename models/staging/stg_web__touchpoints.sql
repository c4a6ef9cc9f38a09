with

touchpoints as (

    select * from {{ ref('base_web__touchpoints') }}
    where dq_issue is null

),

event_types as (

    select * from {{ ref('event_types') }}

),

final as (

    select
        ---------- ids
        touchpoints.event_id,
        touchpoints.lead_id,
        touchpoints.session_id,

        ---------- strings
        touchpoints.event_type,
        touchpoints.channel,
        touchpoints.utm_source,
        touchpoints.utm_medium,
        touchpoints.utm_campaign,
        touchpoints.referrer_domain,
        touchpoints.page_path,
        touchpoints.page_type,
        touchpoints.asset_name,

        ---------- numerics
        touchpoints.duration_seconds,

        ---------- booleans
        touchpoints.is_high_intent_page,
        touchpoints.is_channel_derived,
        coalesce(event_types.is_web_event, false) as is_web_event,

        ---------- timestamps
        touchpoints.occurred_at

    from touchpoints
    left join event_types
        on touchpoints.event_type = event_types.event_type

)

select * from final
