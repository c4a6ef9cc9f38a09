{% macro canonical_channels() %}
    {#- the canonical channels of DESIGN.md -#}
    {{ return([
        'organic_search', 'paid_search', 'paid_social', 'organic_social', 'email',
        'direct', 'referral', 'display', 'events', 'other'
    ]) }}
{% endmacro %}
