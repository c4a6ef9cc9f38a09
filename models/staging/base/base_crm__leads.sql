-- Every raw lead row, cast and normalised, with the first data-quality rule it
-- breaks (dq_issue; null = kept) and flags for values repaired in place. A lead
-- submitted more than once keeps its latest valid version's attributes, but its
-- lead_created_at is its first valid submission, so no touch or conversion
-- between the two submissions is lost.
-- PII (email, company_name) is reduced here to non-identifying signals.

with

source as (

    select * from {{ source('crm', 'leads') }}

),

seniority_keywords as (

    select * from {{ ref('job_title_keywords') }}

),

function_keywords as (

    -- an empty unless_pattern (as a unit-test fixture reads a blank cell) means none
    select
        match_priority,
        keyword_pattern,
        nullif(unless_pattern, '') as unless_pattern,
        job_function

    from {{ ref('job_function_keywords') }}

),

title_flag_keywords as (

    select
        title_flag,
        keyword_pattern,
        nullif(unless_pattern, '') as unless_pattern

    from {{ ref('job_title_flags') }}

),

country_regions as (

    select * from {{ ref('country_regions') }}

),

company_size_bands as (

    select
        company_size_band,
        cast(company_size_ordinal as integer) as company_size_ordinal

    from {{ ref('company_size_bands') }}

),

personal_email_domains as (

    select * from {{ ref('personal_email_domains') }}

),

cleaned as (

    select
        ---------- ids
        nullif(trim(cast(lead_id as {{ dbt.type_string() }})), '') as lead_id,

        ---------- strings
        nullif(regexp_replace(lower(trim(job_title)), '\s+', ' '{{ regexp_global() }}), '') as job_title,
        nullif(replace(trim(company_size), ' ', ''), '') as company_size_raw,
        nullif(regexp_replace(lower(trim(industry)), '\s+', ' '{{ regexp_global() }}), '') as industry,
        nullif(upper(trim(country)), '') as country_raw,
        nullif(regexp_replace(lower(trim(lead_source)), '[\s\-]+', '_'{{ regexp_global() }}), '') as lead_source,
        nullif(regexp_replace(lower(trim(tech_stack)), '\s*;\s*', ';'{{ regexp_global() }}), '') as tech_stack,
        -- the email is reduced to its domain's kind; the address never leaves this model
        lower(trim(split_part(email, '@', 2))) in (
            select personal_email_domains.email_domain from personal_email_domains
        ) as is_personal_email,
        md5(lower(trim(split_part(email, '@', 2)))) as email_domain_hash,

        ---------- timestamps
        {{ try_cast_utc_timestamp('created_at') }} as created_at,
        created_at is not null
        and {{ try_cast_utc_timestamp('created_at') }} is null as is_created_at_malformed

    from source

),

distinct_titles as (

    -- titles are parsed once per distinct title, not once per lead
    select distinct job_title from cleaned
    where job_title is not null

),

title_seniorities as (

    select
        distinct_titles.job_title,
        min_by(seniority_keywords.seniority_level, seniority_keywords.match_priority) as seniority_level,
        min_by(seniority_keywords.seniority_rank, seniority_keywords.match_priority) as seniority_rank

    from distinct_titles
    inner join seniority_keywords
        on {{ regex_matches('distinct_titles.job_title', 'seniority_keywords.keyword_pattern') }}
    group by distinct_titles.job_title

),

title_functions as (

    -- the first rule by match_priority whose pattern matches and whose unless_pattern does not
    select
        distinct_titles.job_title,
        min_by(function_keywords.job_function, function_keywords.match_priority) as job_function

    from distinct_titles
    inner join function_keywords
        on {{ keyword_rule_matches('distinct_titles.job_title', 'function_keywords') }}
    group by distinct_titles.job_title

),

title_flags as (

    select
        {%- for flag in ['student', 'job_seeker', 'retired', 'self_employed'] %}
            max(case when title_flag_keywords.title_flag = '{{ flag }}' then 1 else 0 end) = 1 as is_{{ flag }},
        {%- endfor %}
        distinct_titles.job_title

    from distinct_titles
    inner join title_flag_keywords
        on {{ keyword_rule_matches('distinct_titles.job_title', 'title_flag_keywords') }}
    group by distinct_titles.job_title

),

enriched as (

    select
        cleaned.*,
        coalesce(title_seniorities.seniority_level, 'unknown') as seniority_level,
        title_seniorities.seniority_rank,
        -- no title (or a placeholder such as 'n/a'): unknown; a title no rule reads: other
        case
            when cleaned.job_title is null then 'unknown'
            else coalesce(title_functions.job_function, 'other')
        end as job_function,
        coalesce(title_flags.is_student, false) as is_student,
        coalesce(title_flags.is_job_seeker, false) as is_job_seeker,
        coalesce(title_flags.is_retired, false) as is_retired,
        coalesce(title_flags.is_self_employed, false) as is_self_employed,
        coalesce(title_flags.is_student or title_flags.is_job_seeker or title_flags.is_retired, false)
            as has_non_buyer_title,
        company_size_bands.company_size_band as company_size,
        company_size_bands.company_size_ordinal,
        country_regions.country_code,
        coalesce(country_regions.region, 'unknown') as region,
        cleaned.company_size_raw is not null
        and company_size_bands.company_size_band is null as is_company_size_repaired,
        cleaned.country_raw is not null and country_regions.country_code is null as is_country_repaired

    from cleaned
    left join title_seniorities
        on cleaned.job_title = title_seniorities.job_title
    left join title_functions
        on cleaned.job_title = title_functions.job_title
    left join title_flags
        on cleaned.job_title = title_flags.job_title
    left join company_size_bands
        on cleaned.company_size_raw = company_size_bands.company_size_band
    left join country_regions
        on cleaned.country_raw = country_regions.country_code

),

ranked as (

    select
        *,
        row_number() over (
            partition by lead_id
            -- the latest valid version of a lead wins; invalid versions rank last
            order by
                created_at is null or created_at > {{ scoring_at() }},
                created_at desc,
                seniority_rank desc nulls last,
                industry asc nulls last
        ) as lead_row_number,
        min(case when created_at <= {{ scoring_at() }} then created_at end) over (
            partition by lead_id
        ) as lead_created_at

    from enriched

),

validated as (

    select
        *,
        case
            when lead_id is null then 'missing_lead_id'
            when created_at is null and is_created_at_malformed then 'malformed_created_at'
            when created_at is null then 'missing_created_at'
            when created_at > {{ scoring_at() }} then 'created_after_scoring_date'
            when lead_row_number > 1 then 'duplicate_lead_id'
        end as dq_issue

    from ranked

)

select * from validated
