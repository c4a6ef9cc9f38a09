{% macro touchpoint_raw_tags() %}
    {#- the raw touchpoint columns that together decide a touch's event type and channel (base_web__touchpoint_tags) -#}
    {{ return(['event_type', 'channel', 'utm_source', 'utm_medium', 'referrer_domain']) }}
{% endmacro %}

{% macro touchpoint_raw_tag_columns(relation) -%}
    {#- the raw tag columns of base_web__touchpoint_tags (raw_event_type, ...), qualified by relation -#}
    {%- for tag in touchpoint_raw_tags() %}{{ relation }}.raw_{{ tag }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}

{% macro touchpoint_raw_tags_match(left, right, left_prefix='raw_') -%}
    {#-
        Join condition pairing rows with the same raw tags, nulls included:
        left.<left_prefix><tag> is not distinct from right.raw_<tag> for every tag
        (left_prefix='' when the left side is the raw source itself).
    -#}
    {%- for tag in touchpoint_raw_tags() %}
        {% if not loop.first %}and {% endif %}{{ left }}.{{ left_prefix }}{{ tag }} is not distinct from {{ right }}.raw_{{ tag }}
    {%- endfor %}
{%- endmacro %}
