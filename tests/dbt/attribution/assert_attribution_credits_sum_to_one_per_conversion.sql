-- Every conversion attributed in the report window gets a total credit of 1 in
-- every one of the seven models (fct_touchpoint_attribution). Fails with the
-- conversion and model whose credits do not add up to 1, or that a model misses.

with

touch_credits as (

    select * from {{ ref('fct_touchpoint_attribution') }}

),

paths as (

    select * from {{ ref('int_attribution_paths') }}
    where is_conversion and has_path and is_in_report_window

),

attribution_models as (

    {% for attribution_model in attribution_models() -%}
        select '{{ attribution_model }}' as attribution_model
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

credit_per_conversion as (

    select
        attribution_model,
        lead_id,
        sum(credit) as total_credit,
        count(*) as touch_rows

    from touch_credits
    group by attribution_model, lead_id

),

validation_errors as (

    select
        attribution_models.attribution_model,
        paths.lead_id,
        paths.touch_count,
        credit_per_conversion.touch_rows,
        credit_per_conversion.total_credit

    from paths
    cross join attribution_models
    left join credit_per_conversion
        on
            paths.lead_id = credit_per_conversion.lead_id
            and attribution_models.attribution_model = credit_per_conversion.attribution_model
    where
        credit_per_conversion.total_credit is null
        or abs(credit_per_conversion.total_credit - 1) > 1e-9
        or credit_per_conversion.touch_rows != paths.touch_count

)

select * from validation_errors
