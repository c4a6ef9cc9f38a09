{% macro lead_activity_recencies() %}
    {#-
        The recency features: fct_lead_features.hours_since_last_<name> = hours from
        the lead's last event of that kind (macro lead_event_conditions) at or
        before snapshot_at to snapshot_at. int_lead_activity_daily carries each
        last time forward as last_<name>_to_date_at. 'signal' names the windowed
        count of the same events (macro lead_activity_signals), whose windows the
        tests check against the recency (null: no count of exactly those events).
    -#}
    {%- set is_ = lead_event_conditions() %}
    {{ return({
        'demo_request': {'condition': is_.demo_request, 'signal': 'demo_requests'},
        'high_intent_form': {'condition': is_.high_intent_form, 'signal': none},
        'pricing_view': {'condition': is_.pricing_view, 'signal': 'pricing_page_views'},
        'comparison_view': {'condition': is_.comparison_view, 'signal': 'comparison_page_views'},
        'case_study_view': {'condition': is_.case_study_view, 'signal': 'case_study_page_views'},
        'webinar': {'condition': is_.webinar, 'signal': 'webinars_attended'},
        'chat': {'condition': is_.chat, 'signal': none},
        'engaged_event': {'condition': is_.engaged_event, 'signal': 'engaged_events'},
        'high_intent_event': {'condition': is_.high_intent_event, 'signal': 'high_intent_events'},
    }) }}
{% endmacro %}
