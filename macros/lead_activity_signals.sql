{% macro lead_activity_signals() %}
    {#-
        The additive per-day signals of int_lead_activity_daily and the windows
        fct_lead_features derives from them (via int_lead_snapshot_activity):
        '7d', '30d', '90d' = the last N days up to the snapshot, 'prev_7d' = the
        7 days before the last 7, 'total' = since the lead was created. One list
        so the daily table, the window lookups and the mart stay in step.
    -#}
    {{ return({
        'events': ['7d', 'prev_7d', '30d', '90d', 'total'],
        'engaged_events': ['30d', 'total'],
        'page_views': ['7d', '30d', '90d', 'total'],
        'sessions': ['7d', '30d', '90d', 'total'],
        'time_on_site_seconds': ['7d', '30d', '90d', 'total'],
        'content_downloads': ['7d', '30d', '90d', 'total'],
        'email_opens': ['7d', '30d', '90d', 'total'],
        'email_clicks': ['7d', '30d', '90d', 'total'],
        'webinars_attended': ['7d', '30d', '90d', 'total'],
        'demo_requests': ['7d', '30d', '90d', 'total'],
        'form_submits': ['30d', 'total'],
        'pricing_page_views': ['7d', '30d', 'total'],
        'demo_page_views': ['30d', 'total'],
        'contact_page_views': ['30d', 'total'],
        'comparison_page_views': ['30d', 'total'],
        'high_intent_page_views': ['7d', '30d', 'total'],
        'case_study_page_views': ['30d', 'total'],
        'careers_page_views': ['30d', 'total'],
        'weekend_events': ['total'],
        'business_hours_events': ['total'],
        'active_days': ['7d', '30d', 'total'],
        'marketing_touches': ['30d', 'total'],
        'distinct_assets_downloaded': ['total'],
        'distinct_case_studies_viewed': ['total'],
        'distinct_channels': ['total'],
    }) }}
{% endmacro %}
