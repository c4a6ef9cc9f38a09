{% macro experiment_rules_share() %}
    {#-
        Var experiment_rules_share, validated: the share of the open leads put in
        the rules arm of the A/B test of the model against the rule points, a
        number in [0, 1) read to 1/10000 (macro experiment_buckets): 0, the
        default, = no experiment (every lead in the model arm), else 0.0001 to
        0.9999. A number written as a string ('0.2') is accepted; anything else
        stops the compilation with the var and its value.
    -#}
    {%- set raw = var('experiment_rules_share', 0) -%}
    {%- set share = none -%}
    {%- if raw is number and raw is not boolean -%}
        {%- set share = raw -%}
    {%- elif raw is string and modules.re.match('^\\s*(\\d+(\\.\\d*)?|\\.\\d+)\\s*$', raw) -%}
        {%- set share = raw | float -%}
    {%- endif -%}
    {%- if share is not none -%}
        {%- set buckets = (share * experiment_buckets()) | round | int -%}
    {%- endif -%}
    {%- if share is none or share < 0 or share >= 1 or buckets >= experiment_buckets() or (share > 0 and buckets == 0) -%}
        {%- do exceptions.raise_compiler_error(
            "var experiment_rules_share must be a number in [0, 1): 0 (no experiment) or 0.0001 to 0.9999, the share of the open leads ranked by the rule points; got " ~ (raw | string)
        ) -%}
    {%- endif -%}
    {{ return(share) }}
{% endmacro %}
