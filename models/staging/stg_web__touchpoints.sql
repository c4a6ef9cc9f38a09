with

touchpoints as (

    select * from {{ ref('base_web__touchpoints') }}
    where dq_issue is null

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
        event_type in ('page_view', 'content_download', 'form_submit', 'demo_request', 'chat_started')
            as is_web_event,

        ---------- timestamps
        occurred_at

    from touchpoints

)

select * from final
