{% macro lead_activity_signal_definitions() %}
    {#-
        What each signal of macro lead_activity_signals counts: its source and one
        aggregate expression over a group of that source's rows (the sum of each
        row's contribution). The single definition used by int_lead_activity_daily
        (a group = a lead's UTC activity day) and int_lead_activity_partial_days
        (a group = a lead's events from midnight up to a window start that is not a
        midnight), so a window is the same count whichever way it is assembled.
        Sources:
          events      int_lead_activity_events: one row per event (kinds: macro lead_event_conditions)
          touches     int_marketing_touches: one row per marketing touch
          first_asset_downloads, first_case_study_views, first_channel_touches:
                      one row per lead and distinct asset / customer-story page /
                      channel, at its first occurrence (total-only signals)
        active_days is 1 per group: a UTC day counts once, at its first event.
    -#}
    {%- set is_ = lead_event_conditions() %}
    {%- set definitions = {
        'events': ('events', 'count(*)'),
        'engaged_events': ('events', 'count(*) filter (where ' ~ is_.engaged_event ~ ')'),
        'page_views': ('events', 'count(*) filter (where ' ~ is_.page_view ~ ')'),
        'sessions': ('events', 'count(*) filter (where ' ~ is_.session_start ~ ')'),
        'time_on_site_seconds': ('events', 'coalesce(sum(duration_seconds) filter (where is_web_event), 0)'),
        'content_downloads': ('events', 'count(*) filter (where ' ~ is_.content_download ~ ')'),
        'email_opens': ('events', 'count(*) filter (where ' ~ is_.email_open ~ ')'),
        'email_clicks': ('events', 'count(*) filter (where ' ~ is_.email_click ~ ')'),
        'webinars_attended': ('events', 'count(*) filter (where ' ~ is_.webinar ~ ')'),
        'demo_requests': ('events', 'count(*) filter (where ' ~ is_.demo_request ~ ')'),
        'form_submits': ('events', 'count(*) filter (where ' ~ is_.form_submit ~ ')'),
        'pricing_page_views': ('events', 'count(*) filter (where ' ~ is_.pricing_view ~ ')'),
        'demo_page_views': ('events', 'count(*) filter (where ' ~ is_.demo_page_view ~ ')'),
        'contact_page_views': ('events', 'count(*) filter (where ' ~ is_.contact_page_view ~ ')'),
        'comparison_page_views': ('events', 'count(*) filter (where ' ~ is_.comparison_view ~ ')'),
        'high_intent_page_views': ('events', 'count(*) filter (where ' ~ is_.high_intent_page_view ~ ')'),
        'high_intent_events': ('events', 'count(*) filter (where ' ~ is_.high_intent_event ~ ')'),
        'case_study_page_views': ('events', 'count(*) filter (where ' ~ is_.case_study_view ~ ')'),
        'careers_page_views': ('events', 'count(*) filter (where ' ~ is_.careers_page_view ~ ')'),
        'weekend_events': ('events', 'count(*) filter (where ' ~ is_.engaged_event ~ ' and is_local_weekend)'),
        'business_hours_events': (
            'events',
            'count(*) filter (where ' ~ is_.engaged_event ~ ' and not is_local_weekend and is_local_working_hour)'
        ),
        'active_days': ('events', '1'),
        'marketing_touches': ('touches', 'count(*)'),
        'distinct_assets_downloaded': ('first_asset_downloads', 'count(*)'),
        'distinct_case_studies_viewed': ('first_case_study_views', 'count(*)'),
        'distinct_channels': ('first_channel_touches', 'count(*)'),
    } %}
    {%- set missing = lead_activity_signals().keys() | reject('in', definitions) | list %}
    {%- if missing %}
        {{ exceptions.raise_compiler_error("lead_activity_signal_definitions: no definition for " ~ missing | join(', ')) }}
    {%- endif %}
    {{ return(definitions) }}
{% endmacro %}
