{% test max_dropped_share(model, source_file) %}
    {#-
        Stops the build when a data-quality rule drops more of a raw file than
        var dq_max_dropped_share allows (a changed id format that orphans every
        touchpoint must not build green). The var maps a rule to the share of the
        file's rows it may drop, with 'default' for the others; the error names
        the file, the rule, the counts and the var. A model-level test on each
        base model, so that everything downstream of a failing file is skipped.
    -#}
    {%- set limits = var('dq_max_dropped_share') -%}
    {%- if limits is not mapping or 'default' not in limits -%}
        {%- do exceptions.raise_compiler_error("var dq_max_dropped_share must be a mapping with a 'default' share, e.g. {default: 0.2, anonymous_lead: 0.6}; got " ~ limits) -%}
    {%- endif -%}
    {%- for rule, share in limits.items() -%}
        {%- if not modules.re.match('^[a-z_]+$', rule | string) or not (share | string | float(-1)) >= 0 or (share | float) > 1 -%}
            {%- do exceptions.raise_compiler_error("var dq_max_dropped_share: '" ~ rule ~ "': " ~ share ~ " is not a rule name with a share between 0 and 1") -%}
        {%- endif -%}
    {%- endfor %}

with

outcomes as (

    select
        dq_issue as rule,
        count(*) as dropped_rows,
        sum(count(*)) over () as file_rows
    from {{ model }}
    group by dq_issue

),

limited as (

    select
        rule,
        dropped_rows,
        file_rows,
        case
            when rule is null then 1.0
            {%- for rule, share in limits.items() if rule != 'default' %}
                when rule = {{ sql_string(rule) }} then {{ share | float }}
            {%- endfor %}
            else {{ limits['default'] | float }}
        end as max_share
    from outcomes

),

validation_errors as (

    -- the error is raised in the filter (a select-list expression would be pruned by the
    -- count dbt wraps around a test), and only for the rows over their limit
    select
        rule,
        dropped_rows,
        file_rows,
        max_share
    from limited
    where
        case
            when rule is not null and dropped_rows > max_share * file_rows
                then cast({{ raise_error(
                    "'Raw data contract: ' || dropped_rows || ' of ' || file_rows || ' rows of file "
                    ~ source_file ~ " (' || round(100.0 * dropped_rows / file_rows, 1) || '%) are dropped as ' || rule"
                    ~ " || ', above the limit of ' || round(100.0 * max_share, 1) || '% (var dq_max_dropped_share, key '"
                    ~ " || rule || '). Check the export (a changed id format? a wrong file?) or raise the limit; "
                    ~ "fct_data_quality_issues counts every rule.'"
                ) }} as boolean)
            else false
        end

)

select * from validation_errors
{% endtest %}
