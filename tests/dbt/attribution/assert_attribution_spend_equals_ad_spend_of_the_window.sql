-- The spend of every model in fct_channel_attribution, and in
-- fct_campaign_attribution, is the whole ad spend dated in the report window:
-- no spend line is lost or counted twice by the joins.

with

channel_attribution as (

    select * from {{ ref('fct_channel_attribution') }}

),

campaign_attribution as (

    select * from {{ ref('fct_campaign_attribution') }}

),

ad_spend as (

    select * from {{ ref('stg_ads__ad_spend') }}

),

report_window as (

    select * from {{ ref('int_attribution_report_window') }}

),

expected as (

    select coalesce(sum(ad_spend.spend), 0) as spend

    from ad_spend
    inner join report_window
        on ad_spend.spend_date between report_window.window_start_date and report_window.window_end_date

),

actual as (

    select
        'fct_channel_attribution' as model_name,
        attribution_model,
        coalesce(sum(spend), 0) as spend
    from channel_attribution
    group by attribution_model

    union all

    select
        'fct_campaign_attribution' as model_name,
        attribution_model,
        coalesce(sum(spend), 0) as spend
    from campaign_attribution
    group by attribution_model

),

validation_errors as (

    select
        actual.model_name,
        actual.attribution_model,
        actual.spend,
        expected.spend as expected_spend

    from actual
    cross join expected
    where abs(actual.spend - expected.spend) > 1e-6 * greatest(1, expected.spend)

)

select * from validation_errors
