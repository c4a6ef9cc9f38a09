-- One row per lead open at the scoring date (one scoring run of ml_scores):
-- its arm of the A/B test of the model against the rule points, and the
-- priority and band sales sees for it. The arm is a hash of var
-- experiment_name and lead_id (macro experiment_arm): stable across runs,
-- 'rules' for a var experiment_rules_share of the leads, 'model' for every
-- lead when the share is 0 (no experiment). Model arm: lead_priority is the
-- percentile of conversion_probability within the arm (macro lead_priority)
-- and score_band the model's. Rules arm: lead_priority is the percentile of
-- the rule points within the arm, and the bands are cut down that order so
-- that each band holds the share of the arm's leads it holds in the model arm
-- of the run (the same sales capacity per band). Read by scored_leads and
-- scored_leads_history, which show and record the same ranking.

with

scores as (

    select * from {{ ref('ml_scores') }}

),

assigned as (

    select
        lead_id,
        scored_at,
        conversion_probability,
        rule_points,
        score_band as model_score_band,
        {{ experiment_arm('lead_id') }} as experiment_arm

    from scores

),

with_ranker as (

    -- each arm's ranker: the calibrated probability, or the rule points
    select
        *,
        case
            when experiment_arm = 'rules' then cast(rule_points as double)
            else conversion_probability
        end as ranking_value

    from assigned

),

ranked as (

    -- each arm ranked by its own ranker, ties ordered by lead_id (macro lead_priority)
    select
        *,
        {{ lead_priority('ranking_value', 'lead_id', partition_by='experiment_arm') }} as lead_priority,
        row_number() over (
            partition by experiment_arm
            order by ranking_value desc, lead_id asc
        ) as position_from_top,
        count(*) over (partition by experiment_arm) as arm_leads

    from with_ranker

),

reference_bands as (

    -- the leads whose model bands set the rules arm's band shares: the model
    -- arm (the whole run as the model banded it, should the model arm be empty)
    select model_score_band

    from ranked
    where
        experiment_arm = 'model'
        or not exists (
            select 1
            from ranked as model_arm
            where model_arm.experiment_arm = 'model'
        )

),

band_shares as (

    -- cumulative share of those leads in A, A-B, A-C
    select
        cast(count(*) filter (where model_score_band = 'A') as double) / nullif(count(*), 0) as share_a,
        cast(count(*) filter (where model_score_band <= 'B') as double) / nullif(count(*), 0) as share_a_to_b,
        cast(count(*) filter (where model_score_band <= 'C') as double) / nullif(count(*), 0) as share_a_to_c

    from reference_bands

),

final as (

    select
        ranked.lead_id,
        ranked.scored_at,
        {% if experiment_rules_share() > 0 -%}
            cast('{{ experiment_name() }}' as {{ dbt.type_string() }})
        {%- else -%}
            cast(null as {{ dbt.type_string() }})
        {%- endif %} as experiment_name,
        ranked.experiment_arm,
        ranked.rule_points,
        ranked.lead_priority,
        case
            when ranked.experiment_arm = 'model' then ranked.model_score_band
            when ranked.position_from_top <= round(ranked.arm_leads * band_shares.share_a) then 'A'
            when ranked.position_from_top <= round(ranked.arm_leads * band_shares.share_a_to_b) then 'B'
            when ranked.position_from_top <= round(ranked.arm_leads * band_shares.share_a_to_c) then 'C'
            else 'D'
        end as score_band

    from ranked
    cross join band_shares

)

select * from final
