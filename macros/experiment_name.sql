{% macro experiment_name() %}
    {#-
        Var experiment_name, validated: the name of the A/B test of the model
        against the rule points, the salt of the arm assignment (macro
        experiment_arm). Letters, digits, '_', '-', '.' and spaces, 1 to 100
        characters, so that it goes into SQL as a plain literal; anything else
        stops the compilation with the var and its value.
    -#}
    {%- set name = var('experiment_name', 'model_vs_rules') -%}
    {%- if name is not string or not modules.re.match('^[A-Za-z0-9_.\\- ]{1,100}$', name) or (name | trim) == '' -%}
        {%- do exceptions.raise_compiler_error(
            "var experiment_name must be a name of 1 to 100 letters, digits, '_', '-', '.' or spaces, got " ~ (name | string)
        ) -%}
    {%- endif -%}
    {{ return(name | trim) }}
{% endmacro %}
