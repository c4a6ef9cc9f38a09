{% macro lead_event_conditions() %}
    {#-
        What kind of event a row of int_lead_activity_events is: one boolean SQL
        expression per kind, over its columns event_type, page_type,
        is_high_intent_page, is_session_start and the flags of the event's type
        (seed event_types: is_engaged_event_type, is_high_intent_event_type).
        The one vocabulary the activity signals (macro
        lead_activity_signal_definitions) and the recency features (macro
        lead_activity_recencies) are written in, so that a count and the time
        since the last occurrence always mean the same event.
    -#}
    {%- set conditions = {
        'engaged_event': "is_engaged_event_type",
        'page_view': "event_type = 'page_view'",
        'session_start': "is_session_start",
        'content_download': "event_type = 'content_download'",
        'email_open': "event_type = 'email_open'",
        'email_click': "event_type = 'email_click'",
        'webinar': "event_type = 'webinar_attended'",
        'demo_request': "event_type = 'demo_request'",
        'form_submit': "event_type = 'form_submit'",
        'chat': "event_type = 'chat_started'",
        'pricing_view': "event_type = 'page_view' and page_type = 'pricing'",
        'demo_page_view': "event_type = 'page_view' and page_type = 'demo'",
        'contact_page_view': "event_type = 'page_view' and page_type = 'contact'",
        'comparison_view': "event_type = 'page_view' and page_type = 'comparison'",
        'case_study_view': "event_type = 'page_view' and page_type = 'case_study'",
        'careers_page_view': "event_type = 'page_view' and page_type = 'careers'",
        'high_intent_page_view': "event_type = 'page_view' and is_high_intent_page",
        'high_intent_form': "event_type = 'form_submit' and page_type in ('contact', 'pricing', 'demo')",
    } %}
    {#- high intent: a high-intent page view, a high-intent form, or an event of a high-intent type (a demo request, a chat) -#}
    {%- do conditions.update({
        'high_intent_event': '(' ~ conditions.high_intent_page_view ~ ') or (' ~ conditions.high_intent_form
            ~ ') or is_high_intent_event_type',
    }) %}
    {{ return(conditions) }}
{% endmacro %}
