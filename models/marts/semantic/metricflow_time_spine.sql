-- One row per day: the time spine of the semantic layer (MetricFlow), from
-- January 1 of the year of the first lead (or of the attribution report window's
-- start, if earlier) to December 31 of the year after the scoring date, so
-- every date the marts hold (lead creation, conversion,
-- scoring runs and their horizons) falls inside with a margin, and the spine
-- stays small (about 1,100 days on the sample). Declared as the project's day
-- time spine in _semantic__models.yml (time_spine config).

{%- set max_spine_days = 36600 %}  {#- a century: the bound of the generated day numbers #}
{%- set window_days = var('attribution_window_days') or 0 %}

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

day_numbers as (

    {{ dbt.generate_series(max_spine_days) }}

),

spine_bounds as (

    select
        -- the attribution report window may start before the first lead (a new account)
        cast(
            {{ dbt.date_trunc(
                'year',
                'least(min(created_at), ' ~ dbt.dateadd('day', -window_days, scoring_at()) ~ ')'
            ) }} as date
        ) as first_date,
        cast(
            {{ dbt.dateadd(
                'day', -1, dbt.dateadd('year', 2, dbt.date_trunc('year', scoring_at()))
            ) }} as date
        ) as last_date

    from leads

),

days as (

    select
        cast(
            {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'spine_bounds.first_date') }} as date
        ) as date_day

    from spine_bounds
    cross join day_numbers
    where
        {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'spine_bounds.first_date') }}
        <= spine_bounds.last_date

)

select * from days
