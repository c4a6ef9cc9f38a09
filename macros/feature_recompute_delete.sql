{% macro feature_recompute_delete() %}
    {#-
        Pre-hook of the incremental feature snapshot tables (doc
        `incremental_feature_snapshots`): in an incremental run, first stop when the
        model's columns differ from the stored table's (a changed feature set must
        be built whole, never mixed with rows of the old one), then delete every
        stored row that int_lead_feature_recompute does not declare final (a
        snapshot before its lead's recompute_from_at): the rows the batch recomputes,
        plus those that no longer exist (the previous scoring snapshots, the
        snapshots of a lead whose grid changed or that was removed). Runs in the
        model's transaction: a failed insert keeps the stored rows.
    -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not is_incremental() -%}
        {#- built whole: so must the decision have been (e.g. not a stale one of an
            incremental run, when only this model is selected with --full-refresh) -#}
        {%- set partial = run_query(
            "select count(*) from " ~ ref('int_lead_feature_recompute')
            ~ " where recompute_from_at is not null"
        ).columns[0].values()[0] -%}
        {%- if partial > 0 -%}
            {{ exceptions.raise_compiler_error(
                this.identifier ~ " is built whole, but int_lead_feature_recompute recomputes only part"
                ~ " of the snapshots (it was built by an incremental run): build them together, e.g."
                ~ " `dbt build --full-refresh --select int_lead_feature_recompute+`."
            ) }}
        {%- endif -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- set built = get_columns_in_query(sql) -%}
    {%- set added = built | reject('in', stored) | list -%}
    {%- set dropped = stored | reject('in', built) | list -%}
    {%- if added or dropped or stored != built -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": the model's columns are no longer those of the stored table"
            ~ " (new: " ~ (added | join(', ') or 'none') ~ "; gone: " ~ (dropped | join(', ') or 'none')
            ~ (", same columns in another order" if not added and not dropped else "")
            ~ "). The stored snapshots hold the old feature set and are not mixed with new"
            ~ " ones: rebuild them whole with `dbt build --full-refresh --select "
            ~ "int_lead_feature_recompute+` (or a full `dbt build --full-refresh`)."
        ) }}
    {%- endif -%}
    delete from {{ this }}
    where not exists (
        select 1
        from {{ ref('int_lead_feature_recompute') }} as recompute
        where
            recompute.lead_id = {{ this }}.lead_id
            and recompute.recompute_from_at is not null
            and {{ this }}.snapshot_at < recompute.recompute_from_at
    )
{%- endmacro %}
