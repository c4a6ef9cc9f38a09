{% macro lead_activity_signals() %}
    {#-
        The additive per-day signals of int_lead_activity_daily and the windows
        fct_lead_features derives from them: '1d', '3d', '7d', '14d', '30d', '90d'
        = exactly (snapshot_at - N days, snapshot_at], 'prev_7d' = the 7 days
        before the last 7, 'total' = since the lead was created. What each signal
        counts is in macro lead_activity_signal_definitions. One list so the daily
        table, the partial days, the window lookups, the mart and the tests stay in step.
    -#}
    {%- set short = ['1d', '3d', '7d', '14d', '30d', '90d', 'total'] %}
    {{ return({
        'events': ['1d', '3d', '7d', 'prev_7d', '14d', '30d', '90d', 'total'],
        'engaged_events': short,
        'page_views': short,
        'sessions': short,
        'time_on_site_seconds': ['7d', '30d', '90d', 'total'],
        'content_downloads': short,
        'email_opens': ['7d', '30d', '90d', 'total'],
        'email_clicks': short,
        'webinars_attended': ['7d', '30d', '90d', 'total'],
        'demo_requests': short,
        'form_submits': ['1d', '3d', '7d', '14d', '30d', 'total'],
        'pricing_page_views': ['1d', '3d', '7d', '14d', '30d', 'total'],
        'demo_page_views': ['30d', 'total'],
        'contact_page_views': ['30d', 'total'],
        'comparison_page_views': ['30d', 'total'],
        'high_intent_page_views': ['1d', '3d', '7d', '14d', '30d', 'total'],
        'high_intent_events': short,
        'case_study_page_views': ['30d', 'total'],
        'careers_page_views': ['30d', 'total'],
        'weekend_events': ['total'],
        'business_hours_events': ['total'],
        'active_days': ['3d', '7d', '14d', '30d', 'total'],
        'marketing_touches': ['30d', 'total'],
        'distinct_assets_downloaded': ['total'],
        'distinct_case_studies_viewed': ['total'],
        'distinct_channels': ['total'],
    }) }}
{% endmacro %}
