-- Every raw touchpoint, cast and normalised: canonical event type, channel
-- (derived from UTM tags and referrer when missing), page path and page type;
-- with the first data-quality rule it breaks (dq_issue; null = kept) and
-- flags for values repaired in place.

with

source as (

    select * from {{ source('web', 'touchpoints') }}

),

leads as (

    select
        lead_id,
        created_at
    from {{ ref('base_crm__leads') }}
    where dq_issue is null

),

channel_rules as (

    select * from {{ ref('channel_rules') }}

),

page_types as (

    select * from {{ ref('page_types') }}

),

normalized as (

    select
        ---------- ids
        nullif(trim(cast(event_id as varchar)), '') as event_id,
        nullif(trim(cast(lead_id as varchar)), '') as lead_id,
        nullif(trim(cast(session_id as varchar)), '') as session_id,

        ---------- strings
        nullif(regexp_replace(lower(trim(event_type)), '[\s\-]+', '_', 'g'), '') as event_type_raw,
        nullif(regexp_replace(lower(trim(channel)), '[\s\-]+', '_', 'g'), '') as channel_raw,
        nullif(lower(trim(utm_source)), '') as utm_source,
        nullif(lower(trim(utm_medium)), '') as utm_medium,
        nullif(lower(trim(utm_campaign)), '') as utm_campaign,
        nullif(
            regexp_replace(
                regexp_replace(lower(trim(referrer_domain)), '^[a-z]+://', ''),
                '^www\.|[/:?#].*$', '', 'g'
            ),
            ''
        ) as referrer_domain,
        -- path only: no scheme and host, no query or fragment, no trailing slash
        case
            when nullif(trim(page_url), '') is not null
                then coalesce(
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
                )
        end as page_path,
        nullif(trim(asset_name), '') as asset_name,

        ---------- numerics
        try_cast(duration_seconds as integer) as duration_seconds_raw,
        duration_seconds is not null and try_cast(duration_seconds as integer) is null as is_duration_malformed,

        ---------- timestamps
        try_cast(occurred_at as timestamp) as occurred_at,
        occurred_at is not null and try_cast(occurred_at as timestamp) is null as is_occurred_at_malformed

    from source

),

channel_combinations as (

    -- derive a channel once per distinct (medium, source, referrer), not once per event
    select distinct
        -- a non-canonical channel value (e.g. 'cpc') is read as a medium when utm_medium is empty
        coalesce(utm_medium, channel_raw) as utm_medium,
        utm_source,
        referrer_domain,
        coalesce(utm_medium, channel_raw, '') || '|' || coalesce(utm_source, '') || '|'
        || coalesce(referrer_domain, '') as combination_key

    from normalized
    where
        channel_raw is null
        or channel_raw not in {{ sql_values(canonical_channels()) }}

),

derived_channels as (

    select
        channel_combinations.combination_key,
        min_by(channel_rules.channel, channel_rules.rule_priority) as derived_channel

    from channel_combinations
    inner join channel_rules
        on case channel_rules.source_field
            when 'utm_medium' then {{ regex_matches('channel_combinations.utm_medium', 'channel_rules.pattern') }}
            when 'utm_source' then {{ regex_matches('channel_combinations.utm_source', 'channel_rules.pattern') }}
            when
                'referrer_domain'
                then {{ regex_matches('channel_combinations.referrer_domain', 'channel_rules.pattern') }}
        end
    group by channel_combinations.combination_key

),

paths as (

    select
        distinct_paths.page_path,
        min_by(page_types.page_type, page_types.match_priority) as page_type,
        coalesce(min_by(page_types.is_high_intent, page_types.match_priority), false) as is_high_intent_page

    from (
        select distinct page_path from normalized
        where page_path is not null
    ) as distinct_paths
    left join page_types
        on {{ regex_matches('distinct_paths.page_path', 'page_types.path_pattern') }}
    group by distinct_paths.page_path

),

enriched as (

    select
        normalized.event_id,
        normalized.lead_id,
        normalized.session_id,
        case
            when normalized.event_type_raw in {{ sql_values(event_types()) }} then normalized.event_type_raw
            else 'other'
        end as event_type,
        case
            when normalized.channel_raw in {{ sql_values(canonical_channels()) }} then normalized.channel_raw
            when derived_channels.derived_channel is not null then derived_channels.derived_channel
            -- no usable tag: the event type still tells where the touch came from
            when normalized.event_type_raw in ('email_open', 'email_click') then 'email'
            when normalized.event_type_raw in ('webinar_attended', 'event_attended') then 'events'
            when
                normalized.utm_medium is null
                and normalized.utm_source is null
                and normalized.referrer_domain is null then 'direct'
            else 'other'
        end as channel,
        normalized.utm_source,
        normalized.utm_medium,
        normalized.utm_campaign,
        normalized.referrer_domain,
        normalized.page_path,
        case when normalized.page_path is not null then coalesce(paths.page_type, 'other') end as page_type,
        coalesce(paths.is_high_intent_page, false) as is_high_intent_page,
        normalized.asset_name,
        case
            when normalized.duration_seconds_raw between 0 and 86400 then normalized.duration_seconds_raw
        end as duration_seconds,
        normalized.occurred_at,
        normalized.is_occurred_at_malformed,

        ---------- repairs
        normalized.event_type_raw is null
        or normalized.event_type_raw not in {{ sql_values(event_types()) }} as is_event_type_repaired,
        normalized.channel_raw is null
        or normalized.channel_raw not in {{ sql_values(canonical_channels()) }} as is_channel_derived,
        normalized.is_duration_malformed
        or coalesce(normalized.duration_seconds_raw not between 0 and 86400, false) as is_duration_repaired,

        ---------- lead reference
        leads.lead_id is not null as is_known_lead,
        leads.created_at as lead_created_at

    from normalized
    left join derived_channels
        on
            coalesce(normalized.utm_medium, normalized.channel_raw, '') || '|' || coalesce(normalized.utm_source, '')
            || '|' || coalesce(normalized.referrer_domain, '') = derived_channels.combination_key
    left join paths
        on normalized.page_path = paths.page_path
    left join leads
        on normalized.lead_id = leads.lead_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by occurred_at nulls last, lead_id nulls last, page_path nulls last
        ) as event_row_number

    from enriched

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
