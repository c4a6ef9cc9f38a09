{% macro tech_stack_tools() %}
    {#-
        The tools of a lead's tech stack that fct_lead_features reads: each CRM
        gets a feature column has_<tool>, the modern data-stack tools are counted
        (data_stack_tool_count). A compile-time list because the CRMs name
        columns: this macro is their single definition.
    -#}
    {{ return({
        'crm': ['salesforce', 'hubspot', 'marketo'],
        'data_stack': ['snowflake', 'bigquery', 'redshift', 'databricks', 'dbt', 'segment'],
    }) }}
{% endmacro %}
