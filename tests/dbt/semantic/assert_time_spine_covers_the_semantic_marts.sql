-- The time spine of the semantic layer covers every date of the marts its semantic
-- models read (creation, conversion, scoring and report-window dates, backtest
-- horizons): a date outside it would drop out of MetricFlow's time-spine joins.
-- Returns the dates that are not in metricflow_time_spine.

with

spine as (

    select * from {{ ref('metricflow_time_spine') }}

),

leads as (

    select * from {{ ref('dim_leads') }}

),

scored_leads as (

    select * from {{ ref('scored_leads') }}

),

channel_attribution as (

    select * from {{ ref('fct_channel_attribution') }}

),

backtest as (

    select * from {{ ref('ml_backtest') }}

),

mart_dates as (

    select
        'dim_leads.created_date' as mart_column,
        created_date as mart_date
    from leads
    union all
    select
        'dim_leads.conversion_date' as mart_column,
        conversion_date as mart_date
    from leads
    where conversion_date is not null
    union all
    select
        'scored_leads.scored_at' as mart_column,
        cast(scored_at as date) as mart_date
    from scored_leads
    union all
    select
        'fct_channel_attribution.window_start_date' as mart_column,
        window_start_date as mart_date
    from channel_attribution
    where window_start_date is not null
    union all
    select
        'fct_channel_attribution.window_end_date' as mart_column,
        window_end_date as mart_date
    from channel_attribution
    union all
    select
        'ml_backtest.horizon_end' as mart_column,
        cast(horizon_end as date) as mart_date
    from backtest

),

validation_errors as (

    select distinct
        mart_dates.mart_column,
        mart_dates.mart_date

    from mart_dates
    left join spine
        on mart_dates.mart_date = spine.date_day
    where spine.date_day is null

)

select * from validation_errors
