{% macro lead_snapshot_fingerprint(lead_fingerprint, activity_hash, milestones, snapshot_at) %}
    {#-
        fct_lead_features.input_fingerprint_id: a hash of everything a snapshot's
        features read: the lead's fingerprint
        (int_lead_feature_recompute.lead_fingerprint_id: its staged row, the
        feature vars and definitions), its activity
        days up to the snapshot's day (bit_xor of macro lead_activity_day_hash;
        null: none) and its milestones (int_lead_milestones, qualified by
        `milestones`) reached by snapshot_at. Computed the same way by the mart
        for every row and by int_lead_feature_recompute for the stored row it
        checks: equal (and the same first conversion, which only the labels read),
        the lead's snapshots up to that one are unchanged. Reads nothing dated after
        snapshot_at, like every feature (tests/e2e/test_point_in_time.py).
    -#}
    {%- set times = [
        'first_activity_at', 'first_pricing_view_at', 'first_download_after_pricing_at',
        'first_revisit_within_48h_at', 'rapid_progression_at', 'first_touch_at',
        'first_paid_touch_at', 'first_organic_touch_at', 'paid_and_organic_touched_at',
    ] %}
    hash(
        {{ lead_fingerprint }},
        coalesce({{ activity_hash }}, 0),
        {%- for time in times %}
            case when {{ milestones }}.{{ time }} <= {{ snapshot_at }} then {{ milestones }}.{{ time }} end,
        {%- endfor %}
        case when {{ milestones }}.first_touch_at <= {{ snapshot_at }} then {{ milestones }}.first_touch_channel end
    )
{%- endmacro %}
