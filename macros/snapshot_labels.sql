{% macro snapshot_labels(snapshot_at, converted_at, scored_at=none) %}
    {#-
        The label columns of a feature snapshot, as {column: SQL expression}, in
        their order: the one definition int_lead_snapshots_gridded selects and
        macro relabel_kept_snapshots updates kept rows with. `snapshot_at` and
        `converted_at` (the lead's first conversion, null when none by the scoring
        time) are SQL expressions; `scored_at` defaults to scoring_at(). A label is
        known only once the whole horizon (var prediction_horizon_days) lies at or
        before the scoring time.
    -#}
    {%- set horizon_days = var('prediction_horizon_days') | int -%}
    {%- set scored_at = scored_at if scored_at is not none else scoring_at() -%}
    {%- set horizon_end = dbt.dateadd('day', horizon_days, snapshot_at) -%}
    {{ return({
        'label_is_known': horizon_end ~ ' <= ' ~ scored_at,
        'label_converted_in_horizon': 'case when ' ~ horizon_end ~ ' > ' ~ scored_at ~ ' then null when '
            ~ converted_at ~ ' <= ' ~ horizon_end ~ ' then 1 else 0 end',
        'label_converted_at': converted_at,
        'label_days_to_conversion': seconds_between(snapshot_at, converted_at) ~ ' / 86400.0',
    }) }}
{%- endmacro %}


{% macro relabel_kept_snapshots() %}
    {#-
        Post-hook of the incremental feature snapshot tables that hold labels
        (int_lead_snapshots_matched, fct_lead_features; doc
        `incremental_feature_snapshots`): a kept snapshot's features are final, but
        its label reads the scoring time, so the labels of the kept rows at or after
        their lead's relabel_from_at (int_lead_feature_recompute) are computed again
        (macro snapshot_labels), from the stored first conversion, which the
        decision found unchanged. In the model's transaction, after its insert.
    -#}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set labels = snapshot_labels(this ~ '.snapshot_at', this ~ '.label_converted_at') -%}
    update {{ this }}
    set
        label_is_known = {{ labels['label_is_known'] }},
        label_converted_in_horizon = {{ labels['label_converted_in_horizon'] }}
    from {{ ref('int_lead_feature_recompute') }} as recompute
    where
        recompute.lead_id = {{ this }}.lead_id
        and recompute.relabel_from_at is not null
        and {{ this }}.snapshot_at >= recompute.relabel_from_at
        and {{ this }}.snapshot_at < recompute.recompute_from_at
{%- endmacro %}
