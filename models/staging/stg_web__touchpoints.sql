with

touchpoints as (

    select * from {{ ref('base_web__touchpoints') }}
    where dq_issue is null

),

web_event_types as (

    select event_type from {{ ref('event_types') }}
    where is_web_event

),

final as (

    select
        ---------- ids
        event_id,
        lead_id,
        session_id,

        ---------- strings
        event_type,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        referrer_domain,
        page_path,
        page_type,
        asset_name,

        ---------- numerics
        duration_seconds,

        ---------- booleans
        is_high_intent_page,
        is_channel_derived,
        event_type in (select web_event_types.event_type from web_event_types) as is_web_event,

        ---------- timestamps
        occurred_at,

        ---------- incremental bookkeeping
        ledger_loaded_at

    from touchpoints

)

select * from final
