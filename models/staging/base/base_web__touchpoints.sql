-- Every raw touchpoint, cast and normalised: canonical event type, channel
-- (derived from UTM tags and referrer when missing), page path and page type;
-- with the first data-quality rule it breaks (dq_issue; null = kept) and
-- flags for values repaired in place.
-- Text normalisation and rule matching run once per distinct raw value (a few
-- thousand), not once per event (millions), and are joined back. The dedupe
-- window only sorts the rows whose event_id is delivered more than once.

with

source as (

    select * from {{ source('web', 'touchpoints') }}

),

lead_ids as (

    select * from {{ ref('base_crm__lead_ids') }}

),

channel_rules as (

    select * from {{ ref('channel_rules') }}

),

page_types as (

    select * from {{ ref('page_types') }}

),

redelivered_event_ids as (

    select nullif(trim(cast(event_id as varchar)), '') as event_id
    from source
    group by nullif(trim(cast(event_id as varchar)), '')
    having count(*) > 1

),

raw_tags as (

    select distinct
        event_type,
        channel,
        utm_source,
        utm_medium,
        referrer_domain
    from source

),

normalized_tags as (

    select
        event_type as raw_event_type,
        channel as raw_channel,
        utm_source as raw_utm_source,
        utm_medium as raw_utm_medium,
        referrer_domain as raw_referrer_domain,
        nullif(regexp_replace(lower(trim(event_type)), '[\s\-]+', '_', 'g'), '') as event_type_raw,
        nullif(regexp_replace(lower(trim(channel)), '[\s\-]+', '_', 'g'), '') as channel_raw,
        nullif(lower(trim(utm_source)), '') as utm_source,
        nullif(lower(trim(utm_medium)), '') as utm_medium,
        nullif(
            regexp_replace(
                regexp_replace(lower(trim(referrer_domain)), '^[a-z]+://', ''),
                '^www\.|[/:?#].*$', '', 'g'
            ),
            ''
        ) as referrer_domain
    from raw_tags

),

rule_matches as (

    -- a non-canonical channel value (e.g. 'cpc') is read as a medium when utm_medium is empty
    select
        normalized_tags.raw_event_type,
        normalized_tags.raw_channel,
        normalized_tags.raw_utm_source,
        normalized_tags.raw_utm_medium,
        normalized_tags.raw_referrer_domain,
        min_by(channel_rules.channel, channel_rules.rule_priority) as derived_channel
    from normalized_tags
    inner join channel_rules
        on case channel_rules.source_field
            when 'utm_medium' then {{ regex_matches(
                'coalesce(normalized_tags.utm_medium, normalized_tags.channel_raw)', 'channel_rules.pattern'
            ) }}
            when 'utm_source' then {{ regex_matches('normalized_tags.utm_source', 'channel_rules.pattern') }}
            when 'referrer_domain' then {{ regex_matches('normalized_tags.referrer_domain', 'channel_rules.pattern') }}
        end
    where
        normalized_tags.channel_raw is null
        or normalized_tags.channel_raw not in {{ sql_values(canonical_channels()) }}
    group by
        normalized_tags.raw_event_type,
        normalized_tags.raw_channel,
        normalized_tags.raw_utm_source,
        normalized_tags.raw_utm_medium,
        normalized_tags.raw_referrer_domain

),

tags as (

    select
        normalized_tags.raw_event_type,
        normalized_tags.raw_channel,
        normalized_tags.raw_utm_source,
        normalized_tags.raw_utm_medium,
        normalized_tags.raw_referrer_domain,
        normalized_tags.utm_source,
        normalized_tags.utm_medium,
        normalized_tags.referrer_domain,
        coalesce(normalized_tags.event_type_raw in {{ sql_values(event_types()) }}, false)
            as is_event_type_known,
        coalesce(normalized_tags.channel_raw in {{ sql_values(canonical_channels()) }}, false)
            as is_channel_given,
        case
            when normalized_tags.event_type_raw in {{ sql_values(event_types()) }}
                then normalized_tags.event_type_raw
            else 'other'
        end as event_type,
        case
            when normalized_tags.channel_raw in {{ sql_values(canonical_channels()) }}
                then normalized_tags.channel_raw
            when rule_matches.derived_channel is not null then rule_matches.derived_channel
            -- no usable tag: the event type still tells where the touch came from
            when normalized_tags.event_type_raw in ('email_open', 'email_click') then 'email'
            when normalized_tags.event_type_raw in ('webinar_attended', 'event_attended') then 'events'
            when
                normalized_tags.utm_medium is null
                and normalized_tags.utm_source is null
                and normalized_tags.referrer_domain is null
                then 'direct'
            else 'other'
        end as channel
    from normalized_tags
    left join rule_matches
        on
            normalized_tags.raw_event_type is not distinct from rule_matches.raw_event_type
            and normalized_tags.raw_channel is not distinct from rule_matches.raw_channel
            and normalized_tags.raw_utm_source is not distinct from rule_matches.raw_utm_source
            and normalized_tags.raw_utm_medium is not distinct from rule_matches.raw_utm_medium
            and normalized_tags.raw_referrer_domain is not distinct from rule_matches.raw_referrer_domain

),

raw_pages as (

    select distinct page_url
    from source
    where nullif(trim(page_url), '') is not null

),

normalized_pages as (

    -- path only: no scheme and host, no query or fragment, no trailing slash
    select
        page_url as raw_page_url,
        coalesce(
            nullif(
                regexp_replace(
                    regexp_replace(
                        regexp_replace(lower(trim(page_url)), '^[a-z]+://[^/]*', ''),
                        '[?#].*$', ''
                    ),
                    '/+$', ''
                ),
                ''
            ),
            '/'
        ) as page_path
    from raw_pages

),

pages as (

    select
        normalized_pages.raw_page_url,
        normalized_pages.page_path,
        coalesce(min_by(page_types.page_type, page_types.match_priority), 'other') as page_type,
        coalesce(min_by(page_types.is_high_intent, page_types.match_priority), false) as is_high_intent_page
    from normalized_pages
    left join page_types
        on {{ regex_matches('normalized_pages.page_path', 'page_types.path_pattern') }}
    group by
        normalized_pages.raw_page_url,
        normalized_pages.page_path

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
        on
            source.event_type is not distinct from tags.raw_event_type
            and source.channel is not distinct from tags.raw_channel
            and source.utm_source is not distinct from tags.raw_utm_source
            and source.utm_medium is not distinct from tags.raw_utm_medium
            and source.referrer_domain is not distinct from tags.raw_referrer_domain
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
        -- keep the earliest copy; the other columns break ties, so the kept copy
        -- does not depend on the scan order
        row_number() over (
            partition by event_id
            order by
                occurred_at nulls last, lead_id nulls last, page_path nulls last,
                session_id nulls last, duration_seconds nulls last, event_type, channel,
                utm_source nulls last, utm_medium nulls last, utm_campaign nulls last,
                referrer_domain nulls last, asset_name nulls last
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
