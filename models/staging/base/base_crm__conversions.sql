-- Every raw conversion row, cast, with the first data-quality rule it breaks
-- (dq_issue; null = kept). A lead's first valid conversion is the one that
-- counts; later ones are kept out and counted as repeat_conversion.

with

source as (

    select * from {{ source('crm', 'conversions') }}

),

lead_ids as (

    select * from {{ ref('base_crm__lead_ids') }}

),

cleaned as (

    select
        ---------- ids
        nullif(trim(cast(lead_id as {{ dbt.type_string() }})), '') as lead_id,

        ---------- strings
        coalesce(
            nullif(regexp_replace(lower(trim(conversion_type)), '[\s\-]+', '_'{{ regexp_global() }}), ''), 'unknown'
        ) as conversion_type,

        ---------- numerics
        {{ try_cast_finite_double('amount') }} as amount_raw,
        amount is not null and {{ try_cast_finite_double('amount') }} is null as is_amount_malformed,

        ---------- timestamps
        {{ try_cast_utc_timestamp('converted_at') }} as converted_at,
        converted_at is not null
        and {{ try_cast_utc_timestamp('converted_at') }} is null as is_converted_at_malformed

    from source

),

checked as (

    select
        coalesce(exact_lead.lead_id, folded_lead.lead_id, cleaned.lead_id) as lead_id,
        cleaned.conversion_type,
        case when cleaned.amount_raw >= 0 then cleaned.amount_raw end as amount,
        cleaned.converted_at,
        cleaned.is_converted_at_malformed,
        cleaned.is_amount_malformed or coalesce(cleaned.amount_raw < 0, false) as is_amount_repaired,
        coalesce(exact_lead.lead_id, folded_lead.lead_id) is not null as is_known_lead,
        exact_lead.lead_id is null and folded_lead.lead_id is not null as is_lead_id_case_repaired,
        coalesce(exact_lead.lead_created_at, folded_lead.lead_created_at) as lead_created_at,
        case
            when cleaned.lead_id is null then 'missing_lead_id'
            when cleaned.converted_at is null and cleaned.is_converted_at_malformed then 'malformed_converted_at'
            when cleaned.converted_at is null then 'missing_converted_at'
            when cleaned.converted_at > {{ scoring_at() }} then 'converted_after_scoring_date'
            when coalesce(exact_lead.lead_id, folded_lead.lead_id) is null then 'unknown_lead_id'
            when cleaned.converted_at < coalesce(exact_lead.lead_created_at, folded_lead.lead_created_at)
                then 'converted_before_lead_created'
        end as row_issue

    from cleaned
    left join lead_ids as exact_lead
        on cleaned.lead_id = exact_lead.lead_id
    left join lead_ids as folded_lead
        on
            lower(cleaned.lead_id) = folded_lead.lead_id_folded
            and folded_lead.is_only_case_variant

),

ranked as (

    select
        *,
        row_number() over (
            partition by lead_id
            order by row_issue is not null, converted_at asc, amount desc nulls last
        ) as conversion_number

    from checked

),

validated as (

    select
        lead_id,
        conversion_type,
        amount,
        converted_at,
        is_converted_at_malformed,
        is_amount_repaired,
        is_lead_id_case_repaired,
        is_known_lead,
        lead_created_at,
        conversion_number,
        coalesce(
            row_issue,
            case when conversion_number > 1 then 'repeat_conversion' end
        ) as dq_issue

    from ranked

)

select * from validated
