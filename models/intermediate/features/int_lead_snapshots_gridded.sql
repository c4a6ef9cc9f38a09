-- One row per lead and snapshot time: the points in time at which features are
-- taken and labels are judged. See doc `snapshot_grid`: a grid every
-- var snapshot_interval_days of UTC midnights, starting on the lead's first
-- midnight after creation plus a stable hash bucket of its lead_id (0 ..
-- interval - 1 days, macro stable_hash_bucket, so that training snapshots see
-- every lead age and weekday), while the lead is open and before the scoring
-- time, plus one scoring snapshot at the scoring time for every lead open
-- then. The labels are computed here, next to the conversion they read, and
-- named label_*.

{%- set interval_days = var('snapshot_interval_days') | int %}
{%- set horizon_days = var('prediction_horizon_days') | int %}
{%- if interval_days < 1 %}
    {{ exceptions.raise_compiler_error("var snapshot_interval_days must be a whole number of days >= 1, got " ~ var('snapshot_interval_days')) }}
{%- endif %}
{%- set scored_at = scoring_at() %}

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

grid_offsets as (

    select
        lead_id,
        created_at,
        {{ stable_hash_bucket('lead_id', interval_days) }} as grid_offset_days

    from leads

),

lead_spans as (

    select
        grid_offsets.lead_id,
        grid_offsets.created_at,
        grid_offsets.grid_offset_days,
        conversions.converted_at,
        {{ dbt.dateadd(
            'day', '1 + grid_offsets.grid_offset_days', dbt.date_trunc('day', 'grid_offsets.created_at')
        ) }} as first_grid_snapshot_at,
        -- grid snapshots are taken strictly before this: the conversion or the scoring time
        least(coalesce(conversions.converted_at, {{ scored_at }}), {{ scored_at }}) as grid_end_at

    from grid_offsets
    left join conversions
        on grid_offsets.lead_id = conversions.lead_id

),

digits as (

    select digit_values.digit
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as digit_values (digit)

),

grid_steps as (

    -- 0 .. 99,999: far more steps than any lead can need
    select
        cast(
            ones.digit
            + 10 * tens.digit
            + 100 * hundreds.digit
            + 1000 * thousands.digit
            + 10000 * ten_thousands.digit
            as bigint
        ) as step_number

    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

grid_snapshots as (

    select
        lead_spans.lead_id,
        lead_spans.created_at,
        lead_spans.converted_at,
        lead_spans.grid_offset_days,
        {{ dbt.dateadd('day', 'grid_steps.step_number * ' ~ interval_days, 'lead_spans.first_grid_snapshot_at') }}
            as snapshot_at,
        grid_steps.step_number + 1 as grid_snapshot_number,
        false as is_scoring_snapshot

    from lead_spans
    inner join (
        -- only as many steps as the longest-open lead needs
        select step_number from grid_steps
        where
            step_number * {{ interval_days * 86400 }} < (
                select max({{ seconds_between('first_grid_snapshot_at', 'grid_end_at') }}) from lead_spans
            )
    ) as grid_steps
        on
            grid_steps.step_number * {{ interval_days * 86400 }}
            < {{ seconds_between('lead_spans.first_grid_snapshot_at', 'lead_spans.grid_end_at') }}

),

scoring_snapshots as (

    select
        lead_id,
        created_at,
        converted_at,
        grid_offset_days,
        {{ scored_at }} as snapshot_at,
        cast(null as integer) as grid_snapshot_number,
        true as is_scoring_snapshot

    from lead_spans
    where converted_at is null or converted_at > {{ scored_at }}

),

snapshots as (

    select * from grid_snapshots
    union all
    select * from scoring_snapshots

),

labeled as (

    select
        lead_id,
        snapshot_at,
        is_scoring_snapshot,
        grid_snapshot_number,
        grid_offset_days,
        created_at,

        ---------- labels: known only once the whole horizon lies at or before the scoring time
        {{ dbt.dateadd('day', horizon_days, 'snapshot_at') }} <= {{ scored_at }} as label_is_known,
        case
            when {{ dbt.dateadd('day', horizon_days, 'snapshot_at') }} > {{ scored_at }} then null
            when converted_at <= {{ dbt.dateadd('day', horizon_days, 'snapshot_at') }} then 1
            else 0
        end as label_converted_in_horizon,
        converted_at as label_converted_at,
        {{ seconds_between('snapshot_at', 'converted_at') }} / 86400.0 as label_days_to_conversion

    from snapshots

)

select * from labeled
