-- One row per raw file and data-quality rule: how many raw rows were dropped
-- (action = 'dropped') or repaired in place (action = 'repaired'). With the
-- kept rows (rule = 'kept') the dropped rows add up to the raw row count.

with

leads as (

    select * from {{ ref('base_crm__leads') }}

),

touchpoints as (

    select * from {{ ref('base_web__touchpoints') }}

),

conversions as (

    select * from {{ ref('base_crm__conversions') }}

),

ad_spend as (

    select * from {{ ref('base_ads__ad_spend') }}

),

row_outcomes as (

    {% for source_file in ['leads', 'touchpoints', 'conversions', 'ad_spend'] -%}
        select
            '{{ source_file }}' as source_file,
            coalesce(dq_issue, 'kept') as rule,
            count(*) as row_count
        from {{ source_file }}
        group by coalesce(dq_issue, 'kept')
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

repairs as (

    -- repairs are counted on kept rows only: a dropped row is counted once, by its drop rule
    select
        'leads' as source_file,
        'invalid_company_size_nulled' as rule,
        count(*) filter (where is_company_size_repaired) as row_count
    from leads
    where dq_issue is null

    union all

    select
        'leads' as source_file,
        'invalid_country_code_nulled' as rule,
        count(*) filter (where is_country_repaired) as row_count
    from leads
    where dq_issue is null

    union all

    select
        'touchpoints' as source_file,
        'unknown_event_type_set_to_other' as rule,
        count(*) filter (where is_event_type_repaired) as row_count
    from touchpoints
    where dq_issue is null

    union all

    select
        'touchpoints' as source_file,
        'channel_derived' as rule,
        count(*) filter (where is_channel_derived) as row_count
    from touchpoints
    where dq_issue is null

    union all

    select
        'touchpoints' as source_file,
        'invalid_duration_nulled' as rule,
        count(*) filter (where is_duration_repaired) as row_count
    from touchpoints
    where dq_issue is null

    union all

    select
        'touchpoints' as source_file,
        'lead_id_case_matched' as rule,
        count(*) filter (where is_lead_id_case_repaired) as row_count
    from touchpoints
    where dq_issue is null

    union all

    select
        'conversions' as source_file,
        'lead_id_case_matched' as rule,
        count(*) filter (where is_lead_id_case_repaired) as row_count
    from conversions
    where dq_issue is null

    union all

    select
        'conversions' as source_file,
        'invalid_amount_nulled' as rule,
        count(*) filter (where is_amount_repaired) as row_count
    from conversions
    where dq_issue is null

    union all

    select
        'ad_spend' as source_file,
        'unknown_channel_set_to_other' as rule,
        count(*) filter (where is_channel_repaired) as row_count
    from ad_spend
    where dq_issue is null

),

final as (

    select
        source_file,
        rule,
        case when rule = 'kept' then 'kept' else 'dropped' end as action,
        row_count
    from row_outcomes

    union all

    select
        source_file,
        rule,
        'repaired' as action,
        row_count
    from repairs

)

select * from final
