-- Every raw touchpoint, cast and normalised: canonical event type, channel
-- (derived from UTM tags and referrer when missing), page path and page type;
-- with the first data-quality rule it breaks (dq_issue; null = kept) and
-- flags for values repaired in place. One row per raw row: the ledger that
-- stg_web__touchpoints keeps (dq_issue null) and fct_data_quality_issues counts.
-- Text normalisation and rule matching run once per distinct raw value (a few
-- thousand), not once per event (millions), in base_web__touchpoint_tags (event
-- type and channel) and base_web__touchpoint_pages (page path and type), and
-- are joined back here. The dedupe window only sorts the rows whose event_id is
-- delivered more than once.

with

source as (

    select * from {{ source('web', 'touchpoints') }}

),

lead_ids as (

    select * from {{ ref('base_crm__lead_ids') }}

),

tags as (

    select * from {{ ref('base_web__touchpoint_tags') }}

),

pages as (

    select * from {{ ref('base_web__touchpoint_pages') }}

),

redelivered_event_ids as (

    select nullif(trim(cast(event_id as varchar)), '') as event_id
    from source
    group by nullif(trim(cast(event_id as varchar)), '')
    having count(*) > 1

),

enriched as (

    select
        ---------- ids
        nullif(trim(cast(source.event_id as varchar)), '') as event_id,
        coalesce(
            exact_lead.lead_id, folded_lead.lead_id, nullif(trim(cast(source.lead_id as varchar)), '')
        ) as lead_id,
        nullif(trim(cast(source.session_id as varchar)), '') as session_id,

        ---------- strings
        tags.event_type,
        tags.channel,
        tags.utm_source,
        tags.utm_medium,
        nullif(lower(trim(source.utm_campaign)), '') as utm_campaign,
        tags.referrer_domain,
        pages.page_path,
        pages.page_type,
        coalesce(pages.is_high_intent_page, false) as is_high_intent_page,
        nullif(trim(source.asset_name), '') as asset_name,

        ---------- numerics
        case
            when try_cast(source.duration_seconds as integer) between 0 and 86400
                then try_cast(source.duration_seconds as integer)
        end as duration_seconds,

        ---------- timestamps
        {{ try_cast_utc_timestamp('source.occurred_at') }} as occurred_at,
        source.occurred_at is not null
        and {{ try_cast_utc_timestamp('source.occurred_at') }} is null as is_occurred_at_malformed,

        ---------- repairs
        not tags.is_event_type_known as is_event_type_repaired,
        not tags.is_channel_given as is_channel_derived,
        source.duration_seconds is not null
        and coalesce(not try_cast(source.duration_seconds as integer) between 0 and 86400, true)
            as is_duration_repaired,

        ---------- lead reference
        coalesce(exact_lead.lead_id, folded_lead.lead_id) is not null as is_known_lead,
        exact_lead.lead_id is null and folded_lead.lead_id is not null as is_lead_id_case_repaired,
        coalesce(exact_lead.lead_created_at, folded_lead.lead_created_at) as lead_created_at,

        ---------- dedupe
        redelivered_event_ids.event_id is not null as is_redelivered

    from source
    left join tags
        on {{ touchpoint_raw_tags_match('source', 'tags', left_prefix='') }}
    left join pages
        on source.page_url = pages.raw_page_url
    left join lead_ids as exact_lead
        on nullif(trim(cast(source.lead_id as varchar)), '') = exact_lead.lead_id
    left join lead_ids as folded_lead
        on
            lower(nullif(trim(cast(source.lead_id as varchar)), '')) = folded_lead.lead_id_folded
            and folded_lead.is_only_case_variant
    left join redelivered_event_ids
        on nullif(trim(cast(source.event_id as varchar)), '') = redelivered_event_ids.event_id

),

ranked as (

    -- sorting every event by event_id to find the few redeliveries was most of the
    -- model's time: unique events skip the window
    select
        *,
        cast(1 as bigint) as event_row_number
    from enriched
    where not is_redelivered

    union all

    select
        *,
        -- keep the earliest copy; the other columns break ties, then the copy that
        -- needed no repair, so the kept copy (and the repairs the ledger counts) does
        -- not depend on the scan order: e.g. an event the scoring API received that
        -- the raw export delivers again (macro register_received_touchpoints)
        row_number() over (
            partition by event_id
            order by
                occurred_at nulls last, lead_id nulls last, page_path nulls last,
                session_id nulls last, duration_seconds nulls last, event_type, channel,
                utm_source nulls last, utm_medium nulls last, utm_campaign nulls last,
                referrer_domain nulls last, asset_name nulls last,
                is_occurred_at_malformed, is_lead_id_case_repaired, is_event_type_repaired,
                is_channel_derived, is_duration_repaired
        ) as event_row_number
    from enriched
    where is_redelivered

),

validated as (

    select
        *,
        case
            when event_id is null then 'missing_event_id'
            when event_row_number > 1 then 'duplicate_event_id'
            when occurred_at is null and is_occurred_at_malformed then 'malformed_occurred_at'
            when occurred_at is null then 'missing_occurred_at'
            when occurred_at > {{ scoring_at() }} then 'occurred_after_scoring_date'
            when lead_id is null then 'anonymous_lead'
            when not is_known_lead then 'unknown_lead_id'
            when occurred_at < lead_created_at then 'occurred_before_lead_created'
        end as dq_issue
    from ranked

)

select * from validated
