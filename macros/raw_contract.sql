{% macro raw_contract() %}
    {#-
        The raw data contract of docs/design.md: file name -> ordered list of
        (column, logical type). Types are checked, then cast in staging.
    -#}
    {% do return({
        'leads': [
            ('lead_id', 'varchar'), ('created_at', 'timestamp'), ('email', 'varchar'),
            ('company_name', 'varchar'), ('job_title', 'varchar'), ('company_size', 'varchar'),
            ('industry', 'varchar'), ('country', 'varchar'), ('lead_source', 'varchar'),
            ('tech_stack', 'varchar'),
        ],
        'touchpoints': [
            ('event_id', 'varchar'), ('lead_id', 'varchar'), ('occurred_at', 'timestamp'),
            ('event_type', 'varchar'), ('channel', 'varchar'), ('utm_source', 'varchar'),
            ('utm_medium', 'varchar'), ('utm_campaign', 'varchar'), ('referrer_domain', 'varchar'),
            ('page_url', 'varchar'), ('asset_name', 'varchar'), ('session_id', 'varchar'),
            ('duration_seconds', 'integer'),
        ],
        'conversions': [
            ('lead_id', 'varchar'), ('converted_at', 'timestamp'), ('conversion_type', 'varchar'),
            ('amount', 'double'),
        ],
        'ad_spend': [
            ('spend_date', 'date'), ('channel', 'varchar'), ('utm_campaign', 'varchar'),
            ('spend', 'double'),
        ],
    }) %}
{% endmacro %}
