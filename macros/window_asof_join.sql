{% macro window_asof_join(left_relation, right_relation, partition_column, left_order, right_order, right_columns, column_prefix='') %}
    {#-
        The portable form of asof_join (same arguments, same result) for engines
        without an ASOF join: union the distinct lookup keys with the right keys,
        carry the running max of the right key in key order (right keys first on
        ties, so an equal key matches), keep the lookups, and join back on equality.
    -#}
    select
        {{ left_relation }}.*,
        {%- for column in right_columns %}
        asof_right.{{ column }} as {{ column_prefix }}{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ left_relation }}
    left join (
        select
            keys.partition_value,
            keys.order_value,
            max(case when keys.is_lookup = 0 then keys.order_value end) over (
                partition by keys.partition_value
                order by keys.order_value, keys.is_lookup
                rows between unbounded preceding and current row
            ) as matched_order_value,
            keys.is_lookup
        from (
            select distinct
                {{ left_relation }}.{{ partition_column }} as partition_value,
                {{ left_order }} as order_value,
                1 as is_lookup
            from {{ left_relation }}
            union all
            select
                {{ right_relation }}.{{ partition_column }} as partition_value,
                {{ right_relation }}.{{ right_order }} as order_value,
                0 as is_lookup
            from {{ right_relation }}
        ) as keys
    ) as asof_matches
        on
            asof_matches.is_lookup = 1
            and {{ left_relation }}.{{ partition_column }} = asof_matches.partition_value
            and {{ left_order }} = asof_matches.order_value
    left join {{ right_relation }} as asof_right
        on
            asof_matches.partition_value = asof_right.{{ partition_column }}
            and asof_matches.matched_order_value = asof_right.{{ right_order }}
{% endmacro %}
