-- One row per distinct non-blank raw page_url of the touchpoints (exactly as
-- delivered): its path (no scheme and host, no query or fragment, no trailing
-- slash) and the page type of the first matching pattern of seed page_types
-- ('other' when none matches). A few thousand rows, joined back to every event
-- by base_web__touchpoints.

with

source as (

    select * from {{ source('web', 'touchpoints') }}

),

page_types as (

    select * from {{ ref('page_types') }}

),

raw_pages as (

    select distinct page_url
    from source
    where nullif(trim(page_url), '') is not null

),

normalized_pages as (

    select
        page_url as raw_page_url,
        coalesce(
            nullif(
                regexp_replace(
                    regexp_replace(
                        regexp_replace(lower(trim(page_url)), '^[a-z]+://[^/]*', ''),
                        '[?#].*$', ''
                    ),
                    '/+$', ''
                ),
                ''
            ),
            '/'
        ) as page_path
    from raw_pages

),

pages as (

    select
        normalized_pages.raw_page_url,
        normalized_pages.page_path,
        coalesce(min_by(page_types.page_type, page_types.match_priority), 'other') as page_type,
        coalesce(min_by(page_types.is_high_intent, page_types.match_priority), false) as is_high_intent_page
    from normalized_pages
    left join page_types
        on {{ regex_matches('normalized_pages.page_path', 'page_types.path_pattern') }}
    group by
        normalized_pages.raw_page_url,
        normalized_pages.page_path

)

select * from pages
