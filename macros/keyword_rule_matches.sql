{% macro keyword_rule_matches(value, rule) -%}
    {#-
        True when a keyword rule of a seed (job_function_keywords, job_title_flags)
        applies to value: the rule's keyword_pattern matches and its unless_pattern
        (null = none) does not. rule is the relation holding the rule's columns.
    -#}
    {{ regex_matches(value, rule ~ '.keyword_pattern') }}
    and not coalesce({{ regex_matches(value, rule ~ '.unless_pattern') }}, false)
{%- endmacro %}
