-- dim_leads holds no personal data: no column named like an email, a name or a
-- phone number (company_name included), nor the free-text job title. A row
-- per offending column; one more when the table has no column at all (the
-- check would otherwise pass on a missing table). The columns are read with
-- adapter.get_columns_in_relation, which every adapter implements.

{%- set pii_fragments = ['email', 'name', 'phone', 'job_title'] %}
{%- set dim_leads = ref('dim_leads') %}
{%- set columns = adapter.get_columns_in_relation(dim_leads) if execute else [] %}
{%- set offending = [] %}
{%- for column in columns %}
    {%- for fragment in pii_fragments if fragment in column.name | lower and column.name not in offending %}
        {%- do offending.append(column.name) %}
    {%- endfor %}
{%- endfor %}

with

validation_errors as (

    {%- for column_name in offending %}
        select '{{ column_name }}' as column_name
        union all
    {%- endfor %}
    select 'dim_leads has no column: not built?' as column_name
    from (select 1 as anchor) as anchors
    where {{ 'true' if columns | length == 0 else 'false' }}

)

select * from validation_errors
