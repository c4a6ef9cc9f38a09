-- fct_channel_mix_performance counts every scored lead of the matured runs
-- once: its rows (pooled one included) add up to the lead x run rows of
-- scored_leads_history whose horizon has passed by the scoring date, and so do
-- their conversions and the base rate every row carries.

with

channel_mixes as (

    select * from {{ ref('fct_channel_mix_performance') }}

),

history as (

    select * from {{ ref('scored_leads_history') }}

),

conversions as (

    select * from {{ ref('stg_crm__conversions') }}

),

expected as (

    select
        count(*) as scored_leads,
        count(conversions.lead_id) as converted

    from history
    left join conversions
        on
            history.lead_id = conversions.lead_id
            and history.scored_at < conversions.converted_at
            and {{ dbt.dateadd('day', var('prediction_horizon_days'), 'history.scored_at') }}
            >= conversions.converted_at
    where {{ dbt.dateadd('day', var('prediction_horizon_days'), 'history.scored_at') }} <= {{ scoring_at() }}

),

actual as (

    select
        coalesce(sum(n_leads), 0) as scored_leads,
        coalesce(sum(n_converted), 0) as converted,
        min(base_conversion_rate) as min_base_rate,
        max(base_conversion_rate) as max_base_rate

    from channel_mixes

),

validation_errors as (

    select
        expected.scored_leads as expected_scored_leads,
        actual.scored_leads,
        expected.converted as expected_converted,
        actual.converted,
        actual.min_base_rate,
        actual.max_base_rate

    from expected
    cross join actual
    where
        expected.scored_leads != actual.scored_leads
        or expected.converted != actual.converted
        or (
            expected.scored_leads > 0
            and (
                abs(actual.min_base_rate - cast(expected.converted as double) / expected.scored_leads) > 1e-12
                or abs(actual.max_base_rate - cast(expected.converted as double) / expected.scored_leads) > 1e-12
            )
        )

)

select * from validation_errors
