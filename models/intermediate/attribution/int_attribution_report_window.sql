-- One row: the settings every attribution model shares. The report window is
-- the calendar days (UTC) whose conversions are attributed and whose ad spend
-- is counted: the last var attribution_window_days days up to and including
-- the scoring date, or all history when the var is null.

{%- set window_days = var('attribution_window_days') -%}
{%- set lookback_days = var('attribution_lookback_days') -%}
{%- set half_life_days = var('attribution_time_decay_half_life_days') -%}
{#- scoring_at() may query the raw touchpoints: evaluate it once -#}
{%- set scoring_at_sql = scoring_at() -%}
{%- if window_days is not none and (window_days is not number or window_days < 1) -%}
    {%- do exceptions.raise_compiler_error(
        "var attribution_window_days=" ~ window_days ~ " must be a whole number of days >= 1, or null for all history."
    ) -%}
{%- endif -%}
{%- if lookback_days is not number or lookback_days < 1 -%}
    {%- do exceptions.raise_compiler_error(
        "var attribution_lookback_days=" ~ lookback_days ~ " must be a whole number of days >= 1."
    ) -%}
{%- endif -%}
{%- if half_life_days is not number or half_life_days <= 0 -%}
    {%- do exceptions.raise_compiler_error(
        "var attribution_time_decay_half_life_days=" ~ half_life_days ~ " must be a number of days > 0."
    ) -%}
{%- endif %}

with

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

ad_spend as (

    select * from {{ ref('stg_ads__ad_spend') }}

),

history as (

    select
        (select min(cast(conversions.converted_at as date)) from conversions) as first_conversion_date,
        (select min(ad_spend.spend_date) from ad_spend) as first_spend_date

),

report_window as (

    select
        {{ scoring_at_sql }} as scoring_at,
        {% if window_days is none -%}
            least(history.first_conversion_date, history.first_spend_date) as window_start_date,
        {%- else -%}
            cast({{ dbt.dateadd('day', 1 - window_days, 'cast(' ~ scoring_at_sql ~ ' as date)') }} as date)
                as window_start_date,
        {%- endif %}
        cast({{ scoring_at_sql }} as date) as window_end_date,
        cast({{ window_days if window_days is not none else 'null' }} as integer) as window_days,
        cast({{ lookback_days }} as integer) as lookback_days,
        cast({{ half_life_days }} as double) as time_decay_half_life_days,
        history.first_conversion_date,
        history.first_spend_date

    from history

)

select * from report_window
