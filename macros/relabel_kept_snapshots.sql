{% macro relabel_kept_snapshots() %}
    {#-
        Post-hook of the incremental feature snapshot tables that hold labels
        (int_lead_snapshots_matched, fct_lead_features; doc
        `incremental_feature_snapshots`): a kept snapshot's features are final, but
        its labels read the scoring time, so the kept rows at or after their lead's
        relabel_from_at (int_lead_feature_recompute) take this run's labels from
        int_lead_snapshots_gridded, the one model that defines them (it holds every
        snapshot in every run). In the model's transaction, after its insert.
    -#}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    update {{ this }}
    set
        label_is_known = gridded.label_is_known,
        label_converted_in_horizon = gridded.label_converted_in_horizon,
        label_converted_at = gridded.label_converted_at,
        label_days_to_conversion = gridded.label_days_to_conversion
    from {{ ref('int_lead_feature_recompute') }} as recompute,
        {{ ref('int_lead_snapshots_gridded') }} as gridded
    where
        recompute.lead_id = {{ this }}.lead_id
        and {{ this }}.snapshot_at >= recompute.relabel_from_at
        and {{ this }}.snapshot_at < recompute.recompute_from_at
        and gridded.lead_id = {{ this }}.lead_id
        and gridded.snapshot_at = {{ this }}.snapshot_at
{%- endmacro %}
