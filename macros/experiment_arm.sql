{% macro experiment_arm(lead_id) %}
    {#-
        The lead's arm of the A/B test of the model against the rule points,
        'rules' or 'model': its bucket, macro stable_hash_bucket of
        '<var experiment_name>|<lead_id>' in 0 .. 9999 (macro experiment_buckets),
        is 'rules' when below round(var experiment_rules_share x 10000). The same
        lead gets the same arm in every run of the same experiment name (and a
        larger share only moves leads from 'model' to 'rules'); another name
        reshuffles the leads. Share 0 (no experiment): 'model' for every lead,
        without hashing. Reproducible outside SQL:
        int(hashlib.md5(f'{name}|{lead_id}'.encode()).hexdigest()[:8], 16) % 10000.
    -#}
    {%- set threshold = (experiment_rules_share() * experiment_buckets()) | round | int -%}
    {%- if threshold == 0 -%}
        cast('model' as {{ dbt.type_string() }})
    {%- else -%}
        case
            when {{ stable_hash_bucket("'" ~ experiment_name() ~ "|' || " ~ lead_id, experiment_buckets()) }} < {{ threshold }}
                then cast('rules' as {{ dbt.type_string() }})
            else cast('model' as {{ dbt.type_string() }})
        end
    {%- endif -%}
{% endmacro %}
