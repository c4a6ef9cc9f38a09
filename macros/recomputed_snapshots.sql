{% macro recomputed_snapshots(relation, columns=['*']) %}
    {#-
        A select of the rows of `relation` (one row per lead and snapshot_at) that
        this run computes: those at or after their lead's recompute_from_at in
        int_lead_feature_recompute, all of a lead's when it is null (every row in
        a full build). `columns`: the columns of `relation` to select. Doc
        `incremental_feature_snapshots`.
    -#}
    select
        {%- for column in columns %}
            snapshots.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }} as snapshots
    inner join {{ ref('int_lead_feature_recompute') }} as recompute
        on snapshots.lead_id = recompute.lead_id
    where recompute.recompute_from_at is null or snapshots.snapshot_at >= recompute.recompute_from_at
{%- endmacro %}
