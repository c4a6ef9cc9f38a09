{% macro lead_activity_day_hash(relation) %}
    {#-
        A hash of one row of int_lead_activity_daily (qualified by `relation`):
        its day, the day's signals (macro lead_activity_signals), the recency
        times and burst carried to the day, its last event and marketing touch;
        not source_loaded_at (bookkeeping). bit_xor over a lead's days up to D
        fingerprints the activity every feature as of D reads (macro
        lead_snapshot_fingerprint).
    -#}
    hash(
        {{ relation }}.activity_date,
        {%- for signal in lead_activity_signals() %}
            {{ relation }}.{{ signal }},
        {%- endfor %}
        {%- for name in lead_activity_recencies() %}
            {{ relation }}.last_{{ name }}_to_date_at,
        {%- endfor %}
        {{ relation }}.max_burst_engaged_events_3d_to_date,
        {{ relation }}.max_burst_ended_at,
        {{ relation }}.last_occurred_at,
        {{ relation }}.last_touch_at,
        {{ relation }}.last_touch_channel
    )
{%- endmacro %}
