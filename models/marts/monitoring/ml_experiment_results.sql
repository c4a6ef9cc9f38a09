-- One row per A/B test (experiment_name) x segment: the realized conversion
-- rate of each arm in its top 10% / top 20% (by lead_priority within the arm)
-- and in each band A-D, the difference model - rules and its 95% confidence
-- interval (Newcombe's hybrid score interval: two Wilson intervals combined).
-- Over the matured runs of the experiment (int_matured_scored_leads: horizon
-- passed, first conversion in (scored_at, scored_at + horizon]). The lead is
-- the unit, since the arms are assigned per lead: each lead counts once per
-- experiment, at the first matured run that scored it, with its arm, segment
-- and outcome of that run (a lead open over several runs whose horizons
-- overlap would otherwise count its one conversion several times and make the
-- interval too narrow). Empty when no matured run ran an experiment. See doc
-- `ml_experiment_results`.

{#- segment_type, segment, the leads of an arm in it (lead_priority is the
    percentile within the arm: above 90 = the arm's best 10% of the run) -#}
{%- set segments = [
    ('top_k', 'top_10pct', 'lead_priority > 90'),
    ('top_k', 'top_20pct', 'lead_priority > 80'),
    ('band', 'A', "score_band = 'A'"),
    ('band', 'B', "score_band = 'B'"),
    ('band', 'C', "score_band = 'C'"),
    ('band', 'D', "score_band = 'D'"),
] %}

with

matured as (

    select * from {{ ref('int_matured_scored_leads') }}

),

experiment_rows as (

    -- the scored leads of the matured runs that ran an experiment
    select
        *,
        row_number() over (
            partition by experiment_name, lead_id
            order by scored_at
        ) as exposure_number

    from matured
    where
        experiment_name is not null
        and experiment_arm in ('model', 'rules')

),

first_exposures as (

    -- each lead once per experiment: its first matured run
    select * from experiment_rows
    where exposure_number = 1

),

experiments as (

    select
        experiment_name,
        count(distinct scored_at) as matured_runs

    from experiment_rows
    group by experiment_name

),

segmented as (

    {% for segment_type, segment, condition in segments %}
        select
            experiment_name,
            experiment_arm,
            converted,
            '{{ segment_type }}' as segment_type,
            '{{ segment }}' as segment

        from first_exposures
        where {{ condition }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

counts as (

    select
        experiment_name,
        segment_type,
        segment,
        count(*) filter (where experiment_arm = 'model') as model_leads,
        coalesce(sum(converted) filter (where experiment_arm = 'model'), 0) as model_conversions,
        count(*) filter (where experiment_arm = 'rules') as rules_leads,
        coalesce(sum(converted) filter (where experiment_arm = 'rules'), 0) as rules_conversions

    from segmented
    group by experiment_name, segment_type, segment

),

segment_list as (

    select
        segment_list.segment_type,
        segment_list.segment

    from (
        values
        {% for segment_type, segment, condition in segments -%}
            ('{{ segment_type }}', '{{ segment }}'){% if not loop.last %},{% endif %}
        {% endfor %}
    ) as segment_list (segment_type, segment)

),

every_segment as (

    -- every segment of every experiment, an empty one included (rates null)
    select
        experiments.experiment_name,
        experiments.matured_runs,
        segment_list.segment_type,
        segment_list.segment,
        coalesce(counts.model_leads, 0) as model_leads,
        coalesce(counts.model_conversions, 0) as model_conversions,
        coalesce(counts.rules_leads, 0) as rules_leads,
        coalesce(counts.rules_conversions, 0) as rules_conversions

    from experiments
    cross join segment_list
    left join counts
        on
            experiments.experiment_name = counts.experiment_name
            and segment_list.segment = counts.segment

),

rates as (

    select
        *,
        cast(model_conversions as double) / nullif(model_leads, 0) as model_conversion_rate,
        cast(rules_conversions as double) / nullif(rules_leads, 0) as rules_conversion_rate,
        {{ wilson_score_bound('model_conversions', 'model_leads', 'lower') }} as model_lower,
        {{ wilson_score_bound('model_conversions', 'model_leads', 'upper') }} as model_upper,
        {{ wilson_score_bound('rules_conversions', 'rules_leads', 'lower') }} as rules_lower,
        {{ wilson_score_bound('rules_conversions', 'rules_leads', 'upper') }} as rules_upper

    from every_segment

),

intervals as (

    -- Newcombe (1998) method 10: d -/+ the root sum of squares of the arms' Wilson half-widths
    -- on the side each arm moves d
    select
        *,
        model_conversion_rate - rules_conversion_rate as rate_difference,
        round(
            model_conversion_rate - rules_conversion_rate
            - sqrt(
                (model_conversion_rate - model_lower) * (model_conversion_rate - model_lower)
                + (rules_upper - rules_conversion_rate) * (rules_upper - rules_conversion_rate)
            ),
            6
        ) as ci_lower,
        round(
            model_conversion_rate - rules_conversion_rate
            + sqrt(
                (model_upper - model_conversion_rate) * (model_upper - model_conversion_rate)
                + (rules_conversion_rate - rules_lower) * (rules_conversion_rate - rules_lower)
            ),
            6
        ) as ci_upper

    from rates

),

final as (

    select
        cast(experiment_name as {{ dbt.type_string() }}) as experiment_name,
        cast(segment_type as {{ dbt.type_string() }}) as segment_type,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(matured_runs as bigint) as matured_runs,
        cast(model_leads as bigint) as model_leads,
        cast(model_conversions as bigint) as model_conversions,
        cast(model_conversion_rate as double) as model_conversion_rate,
        cast(rules_leads as bigint) as rules_leads,
        cast(rules_conversions as bigint) as rules_conversions,
        cast(rules_conversion_rate as double) as rules_conversion_rate,
        cast(rate_difference as double) as rate_difference,
        cast(ci_lower as double) as ci_lower,
        cast(ci_upper as double) as ci_upper,
        coalesce(ci_lower > 0 or ci_upper < 0, false) as is_significant

    from intervals

)

select * from final
