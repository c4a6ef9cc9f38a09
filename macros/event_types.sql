{% macro event_types() %}
    {#- the event types of the raw data contract; anything else becomes 'other' -#}
    {{ return([
        'page_view', 'content_download', 'email_open', 'email_click', 'form_submit',
        'webinar_attended', 'demo_request', 'ad_click', 'chat_started', 'event_attended'
    ]) }}
{% endmacro %}
