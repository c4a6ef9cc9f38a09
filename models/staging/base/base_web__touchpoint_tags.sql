-- One row per distinct combination of the raw tags of a touchpoint (event_type,
-- channel, utm_source, utm_medium, referrer_domain, exactly as delivered):
-- the normalised tags, the canonical event type (seed event_types; anything
-- outside the raw contract is 'other') and the canonical channel. A missing or
-- non-canonical channel is derived by the first matching rule of seed
-- channel_rules, then from the event type (its fallback_channel), then 'direct'
-- when the touch carries no tag at all. A few thousand rows, joined back to
-- every event by base_web__touchpoints.

with

source as (

    select * from {{ source('web', 'touchpoints') }}

),

channel_rules as (

    select * from {{ ref('channel_rules') }}

),

channels as (

    select * from {{ ref('channels') }}

),

raw_contract_event_types as (

    -- an empty fallback_channel (as a unit-test fixture reads a blank cell) means none
    select
        event_type,
        nullif(fallback_channel, '') as fallback_channel

    from {{ ref('event_types') }}
    where is_raw_contract

),

raw_tags as (

    select distinct {{ touchpoint_raw_tags() | join(', ') }}
    from source

),

normalized_tags as (

    select
        raw_tags.event_type as raw_event_type,
        raw_tags.channel as raw_channel,
        raw_tags.utm_source as raw_utm_source,
        raw_tags.utm_medium as raw_utm_medium,
        raw_tags.referrer_domain as raw_referrer_domain,
        nullif(
            regexp_replace(lower(trim(raw_tags.event_type)), '[\s\-]+', '_'{{ regexp_global() }}), ''
        ) as event_type_raw,
        nullif(
            regexp_replace(lower(trim(raw_tags.channel)), '[\s\-]+', '_'{{ regexp_global() }}), ''
        ) as channel_raw,
        nullif(lower(trim(raw_tags.utm_source)), '') as utm_source,
        nullif(lower(trim(raw_tags.utm_medium)), '') as utm_medium,
        nullif(
            regexp_replace(
                regexp_replace(lower(trim(raw_tags.referrer_domain)), '^[a-z]+://', ''),
                '^www\.|[/:?#].*$', ''{{ regexp_global() }}
            ),
            ''
        ) as referrer_domain
    from raw_tags

),

canonical_tags as (

    -- the raw event type and channel where they are canonical already (null: not)
    select
        normalized_tags.*,
        raw_contract_event_types.event_type as known_event_type,
        raw_contract_event_types.fallback_channel as event_type_fallback_channel,
        channels.channel as given_channel
    from normalized_tags
    left join raw_contract_event_types
        on normalized_tags.event_type_raw = raw_contract_event_types.event_type
    left join channels
        on normalized_tags.channel_raw = channels.channel

),

rule_matches as (

    -- a non-canonical channel value (e.g. 'cpc') is read as a medium when utm_medium is empty
    select
        {{ touchpoint_raw_tag_columns('canonical_tags') }},
        min_by(channel_rules.channel, channel_rules.rule_priority) as derived_channel
    from canonical_tags
    inner join channel_rules
        on case channel_rules.source_field
            when 'utm_medium' then {{ regex_matches(
                'coalesce(canonical_tags.utm_medium, canonical_tags.channel_raw)', 'channel_rules.pattern'
            ) }}
            when 'utm_source' then {{ regex_matches('canonical_tags.utm_source', 'channel_rules.pattern') }}
            when 'referrer_domain' then {{ regex_matches('canonical_tags.referrer_domain', 'channel_rules.pattern') }}
        end
    where canonical_tags.given_channel is null
    group by {{ touchpoint_raw_tag_columns('canonical_tags') }}

),

tags as (

    select
        {{ touchpoint_raw_tag_columns('canonical_tags') }},
        canonical_tags.utm_source,
        canonical_tags.utm_medium,
        canonical_tags.referrer_domain,
        canonical_tags.known_event_type is not null as is_event_type_known,
        canonical_tags.given_channel is not null as is_channel_given,
        coalesce(canonical_tags.known_event_type, 'other') as event_type,
        case
            when canonical_tags.given_channel is not null then canonical_tags.given_channel
            when rule_matches.derived_channel is not null then rule_matches.derived_channel
            -- no usable tag: the event type still tells where the touch came from
            when canonical_tags.event_type_fallback_channel is not null
                then canonical_tags.event_type_fallback_channel
            when
                canonical_tags.utm_medium is null
                and canonical_tags.utm_source is null
                and canonical_tags.referrer_domain is null
                then 'direct'
            else 'other'
        end as channel
    from canonical_tags
    left join rule_matches
        on {{ touchpoint_raw_tags_match('canonical_tags', 'rule_matches') }}

)

select * from tags
