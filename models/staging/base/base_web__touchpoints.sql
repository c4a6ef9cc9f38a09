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
--
-- Incremental: a run recomputes only the ledger partitions that can have
-- changed (doc `incremental_ledger`): a lead's rows (partition
-- 'lead:<folded raw lead id>'), anonymous rows by day ('anonymous:<day>'), rows
-- without a valid time ('untimed'). A partition is recomputed, whole, when its
-- raw rows changed (a fingerprint of every raw row: a late arrival of any age,
-- a redelivery, an edit), when it holds a row dated after the previous run's
-- latest valid touchpoint or after the scoring time (judged against the scoring
-- time), when the leads its raw ids resolve to changed, or when it shares an
-- event_id with such a partition (a redelivery is ranked against every copy).
-- `dbt build --full-refresh` builds the same rows from scratch.

{{ config(
    materialized='incremental',
    incremental_strategy=incremental_strategy(),
    full_refresh=rebuilds_in_full(),
    unique_key='ledger_partition',
    on_schema_change='fail'
) }}

{%- set raw_columns = raw_contract()['touchpoints'] | map(attribute=0) | list %}

with

raw_rows as {{ inline_cte() }} (

    select
        *,
        {{ try_cast_utc_timestamp('occurred_at') }} as parsed_occurred_at,
        lower(nullif(trim(cast(lead_id as {{ dbt.type_string() }})), '')) as raw_lead_key
    from {{ source('web', 'touchpoints') }}

),

keyed as {{ inline_cte() }} (

    select
        *,
        case
            when parsed_occurred_at is null then 'untimed'
            when raw_lead_key is null
                then 'anonymous:' || cast(cast(parsed_occurred_at as date) as {{ dbt.type_string() }})
            else 'lead:' || raw_lead_key
        end as ledger_partition,
        hash({{ raw_columns | join(', ') }}) as raw_row_hash
    from raw_rows

),

lead_ids as (

    select * from {{ ref('base_crm__lead_ids') }}

),

partition_fingerprints as (

    -- what a partition's raw rows hold, as one number: any row added, changed
    -- or removed changes it (a sum, so that the order of the rows does not;
    -- each hash reduced modulo a prime, so that a billion rows fit a bigint)
    select
        ledger_partition,
        cast(sum(raw_row_hash % 1000000007) as bigint) as ledger_partition_fingerprint,
        max(parsed_occurred_at) as latest_occurred_at
    from keyed
    group by ledger_partition

),

lead_resolutions as (

    -- the leads a folded raw lead id can resolve to, as one fingerprint: when it
    -- changes (the lead arrived, its creation time changed, a case variant
    -- appeared), every row of the partition is judged again
    select
        lead_id_folded,
        hash(
            {{ ordered_string_agg(
                "lead_id || '|' || cast(lead_created_at as " ~ dbt.type_string() ~ ") || '|' || cast(is_only_case_variant as " ~ dbt.type_string() ~ ")",
                'lead_id',
                ','
            ) }}
        ) as lead_resolution_hash
    from lead_ids
    group by lead_id_folded

),

{%- if is_incremental() %}

previous_run as (

    select max(occurred_at) as latest_valid_occurred_at
    from {{ this }}
    where dq_issue is null

),

judged_from as (

    -- rows dated after this are judged against the scoring time again: those
    -- after the previous run's latest valid touchpoint, and every row after this
    -- run's scoring time (a backtest may move it back)
    select
        coalesce(
            least(latest_valid_occurred_at, {{ scoring_at() }}), cast('0001-01-01' as timestamp)
        ) as judged_from_at
    from previous_run

),

changed_partitions as (

    -- the raw rows changed (new, late, redelivered, edited), or the partition is new
    select current_partitions.ledger_partition
    from partition_fingerprints as current_partitions
    left join (
        select distinct
            ledger_partition,
            ledger_partition_fingerprint
        from {{ this }}
    ) as stored
        on current_partitions.ledger_partition = stored.ledger_partition
    where
        current_partitions.ledger_partition_fingerprint
        is distinct from stored.ledger_partition_fingerprint

    union

    select partition_fingerprints.ledger_partition
    from partition_fingerprints
    cross join judged_from
    where partition_fingerprints.latest_occurred_at > judged_from.judged_from_at

    union

    -- the leads behind a partition's raw ids changed since it was judged
    select stored.ledger_partition
    from (
        select distinct
            ledger_partition,
            lead_resolution_hash
        from {{ this }}
        where ledger_partition like 'lead:%'
    ) as stored
    left join lead_resolutions
        on substr(stored.ledger_partition, 6) = lead_resolutions.lead_id_folded
    where stored.lead_resolution_hash is distinct from lead_resolutions.lead_resolution_hash

),

redelivered_elsewhere as (

    -- an event_id delivered in a changed partition and in another one: both are
    -- judged together, so that the kept copy is the one a full rebuild keeps
    select distinct stored.ledger_partition
    from {{ this }} as stored
    inner join (
        select distinct nullif(trim(cast(keyed.event_id as {{ dbt.type_string() }})), '') as event_id
        from keyed
        inner join changed_partitions
            on keyed.ledger_partition = changed_partitions.ledger_partition
    ) as changed_event_ids
        on stored.event_id = changed_event_ids.event_id

),

batch_partitions as (

    select ledger_partition from changed_partitions
    union
    select ledger_partition from redelivered_elsewhere

),

{%- endif %}

source as {{ inline_cte() }} (

    select keyed.*
    from keyed
    {%- if is_incremental() %}
        where keyed.ledger_partition in (select batch_partitions.ledger_partition from batch_partitions)
    {%- endif %}

),

tags as (

    select * from {{ ref('base_web__touchpoint_tags') }}

),

pages as (

    select * from {{ ref('base_web__touchpoint_pages') }}

),

redelivered_event_ids as (

    select nullif(trim(cast(event_id as {{ dbt.type_string() }})), '') as event_id
    from source
    group by nullif(trim(cast(event_id as {{ dbt.type_string() }})), '')
    having count(*) > 1

),

enriched as {{ inline_cte() }} (

    select
        ---------- ids
        nullif(trim(cast(source.event_id as {{ dbt.type_string() }})), '') as event_id,
        coalesce(
            exact_lead.lead_id, folded_lead.lead_id, nullif(trim(cast(source.lead_id as {{ dbt.type_string() }})), '')
        ) as lead_id,
        nullif(trim(cast(source.session_id as {{ dbt.type_string() }})), '') as session_id,

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
        source.parsed_occurred_at as occurred_at,
        source.occurred_at is not null and source.parsed_occurred_at is null as is_occurred_at_malformed,

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
        redelivered_event_ids.event_id is not null as is_redelivered,

        ---------- incremental bookkeeping
        source.ledger_partition,
        coalesce(lead_resolutions.lead_resolution_hash, 0) as lead_resolution_hash,
        partition_fingerprints.ledger_partition_fingerprint,
        {{ run_started_at_timestamp() }} as ledger_loaded_at

    from source
    left join tags
        on {{ touchpoint_raw_tags_match('source', 'tags', left_prefix='') }}
    left join pages
        on source.page_url = pages.raw_page_url
    left join lead_ids as exact_lead
        on nullif(trim(cast(source.lead_id as {{ dbt.type_string() }})), '') = exact_lead.lead_id
    left join lead_ids as folded_lead
        on
            source.raw_lead_key = folded_lead.lead_id_folded
            and folded_lead.is_only_case_variant
    left join redelivered_event_ids
        on nullif(trim(cast(source.event_id as {{ dbt.type_string() }})), '') = redelivered_event_ids.event_id
    left join lead_resolutions
        on source.raw_lead_key = lead_resolutions.lead_id_folded
    left join partition_fingerprints
        on source.ledger_partition = partition_fingerprints.ledger_partition

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
