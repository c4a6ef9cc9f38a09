{% macro spark__load_csv_rows(model, agate_table) %}
    {#-
        dbt seed on Spark: dbt-spark's own version pastes every value between
        quotes unescaped, so a seed value holding a quote (event_types) is a syntax
        error. Here a value is a concat of quoted pieces around chr(39) (') and
        chr(92) (\), which reads the same whatever spark.sql.parser.escapedStringLiterals
        says, cast once to the column's type; one insert per batch of rows.
    -#}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set types = [] %}
    {% for column_name in agate_table.column_names %}
        {% do types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) %}
    {% endfor %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set rows = [] %}
        {% for row in chunk %}
            {% set values = [] %}
            {% for value in row %}
                {% if value is none %}
                    {% do values.append('cast(null as ' ~ types[loop.index0] ~ ')') %}
                {% else %}
                    {#- quotes first: the pieces the second replace inserts hold quotes of their own -#}
                    {% set text = (value | string).replace("'", "', chr(39), '").replace('\\', "', chr(92), '") %}
                    {% do values.append("cast(concat('" ~ text ~ "') as " ~ types[loop.index0] ~ ")") %}
                {% endif %}
            {% endfor %}
            {% do rows.append('(' ~ (values | join(', ')) ~ ')') %}
        {% endfor %}
        {% set sql = 'insert into ' ~ this.render() ~ ' values ' ~ (rows | join(', ')) %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}{% do statements.append(sql) %}{% endif %}
    {% endfor %}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
