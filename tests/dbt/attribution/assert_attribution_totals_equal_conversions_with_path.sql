-- Per model, fct_channel_attribution shares out exactly the conversions of the
-- report window that have a path, and their revenue: every model's attributed
-- conversions add up to their number, its attributed revenue to their value
-- (unknown amounts count as 0), and conversions_with_path says the same.

with

channel_attribution as (

    select * from {{ ref('fct_channel_attribution') }}

),

paths as (

    select * from {{ ref('int_attribution_paths') }}
    where is_conversion and is_in_report_window

),

attribution_models as (

    {% for attribution_model in attribution_models() -%}
        select '{{ attribution_model }}' as attribution_model
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

expected as (

    select
        count(*) filter (where has_path) as conversions_with_path,
        count(*) filter (where not has_path) as conversions_without_path,
        coalesce(sum(conversion_value) filter (where has_path), 0) as revenue_with_path

    from paths

),

per_model as (

    select
        attribution_model,
        sum(attributed_conversions) as attributed_conversions,
        sum(attributed_revenue) as attributed_revenue,
        min(conversions_with_path) as min_conversions_with_path,
        max(conversions_with_path) as max_conversions_with_path,
        max(conversions_without_path) as conversions_without_path

    from channel_attribution
    group by attribution_model

),

validation_errors as (

    select
        attribution_models.attribution_model,
        expected.conversions_with_path as expected_conversions,
        per_model.attributed_conversions,
        expected.revenue_with_path as expected_revenue,
        per_model.attributed_revenue

    from attribution_models
    cross join expected
    left join per_model
        on attribution_models.attribution_model = per_model.attribution_model
    where
        abs(coalesce(per_model.attributed_conversions, 0) - expected.conversions_with_path)
        > 1e-6 * greatest(1, expected.conversions_with_path)
        or abs(coalesce(per_model.attributed_revenue, 0) - expected.revenue_with_path)
        > 1e-6 * greatest(1, expected.revenue_with_path)
        or (
            per_model.attribution_model is not null
            and (
                per_model.min_conversions_with_path != expected.conversions_with_path
                or per_model.max_conversions_with_path != expected.conversions_with_path
                or per_model.conversions_without_path != expected.conversions_without_path
            )
        )

)

select * from validation_errors
