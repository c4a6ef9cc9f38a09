-- Every raw row is either kept or dropped by exactly one counted rule, and the
-- kept count is what reaches staging: no row disappears uncounted.

with

raw_counts as (

    select
        'leads' as source_file,
        count(*) as raw_rows
    from {{ source('crm', 'leads') }}

    union all

    select
        'touchpoints' as source_file,
        count(*) as raw_rows
    from {{ source('web', 'touchpoints') }}

    union all

    select
        'conversions' as source_file,
        count(*) as raw_rows
    from {{ source('crm', 'conversions') }}

    union all

    select
        'ad_spend' as source_file,
        count(*) as raw_rows
    from {{ source('ads', 'ad_spend') }}

),

staged_counts as (

    select
        'leads' as source_file,
        count(*) as staged_rows
    from {{ ref('stg_crm__leads') }}

    union all

    select
        'touchpoints' as source_file,
        count(*) as staged_rows
    from {{ ref('stg_web__touchpoints') }}

    union all

    select
        'conversions' as source_file,
        count(*) as staged_rows
    from {{ ref('stg_crm__conversions') }}

    union all

    select
        'ad_spend' as source_file,
        count(*) as staged_rows
    from {{ ref('stg_ads__ad_spend') }}

),

counted as (

    select
        source_file,
        -- an empty file has no kept or dropped row: it accounts for 0 rows
        coalesce(sum(row_count) filter (where action in ('kept', 'dropped')), 0) as accounted_rows,
        coalesce(sum(row_count) filter (where action = 'kept'), 0) as kept_rows
    from {{ ref('fct_data_quality_issues') }}
    group by source_file

),

validation_errors as (

    select
        raw_counts.source_file,
        raw_counts.raw_rows,
        counted.accounted_rows,
        counted.kept_rows,
        staged_counts.staged_rows

    from raw_counts
    left join counted
        on raw_counts.source_file = counted.source_file
    left join staged_counts
        on raw_counts.source_file = staged_counts.source_file
    where
        counted.accounted_rows is distinct from raw_counts.raw_rows
        or coalesce(counted.kept_rows, 0) <> staged_counts.staged_rows

)

select * from validation_errors
