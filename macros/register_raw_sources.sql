{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'lead_scoring')()) }}
{% endmacro %}

{% macro default__register_raw_sources() %}
    {#-
        Runs on-run-start. For each file of the raw data contract:
          1. find <raw_data_path>/<name>.parquet, else <name>.csv;
          2. check every contract column is there with a castable type;
          3. check no typed column is mostly unparseable (a wrong file or format);
          4. expose it as the view raw.<name>, which the dbt sources read;
             raw.touchpoints also holds the events the real-time scoring API
             received (register_received_touchpoints).
        Any failure stops the run with a message naming the file, the column
        and the var to fix. Single malformed values are not errors: staging
        repairs or drops them and counts them in fct_data_quality_issues.
    -#}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set folder = raw_data_folder() %}
    {% set limit = var('raw_malformed_share_limit') | float %}
    {% set encoding = raw_csv_encoding_name() %}
    {% set castable = {
        'varchar': none,
        'timestamp': ['TIMESTAMP', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S', 'TIMESTAMP WITH TIME ZONE', 'DATE', 'VARCHAR'],
        'date': ['DATE', 'TIMESTAMP', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S', 'TIMESTAMP WITH TIME ZONE', 'VARCHAR'],
        'double': ['DOUBLE', 'FLOAT', 'DECIMAL', 'BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'HUGEINT', 'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT', 'VARCHAR'],
        'integer': ['INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'HUGEINT', 'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT', 'DOUBLE', 'FLOAT', 'DECIMAL', 'VARCHAR'],
    } %}
    {% do run_query('create schema if not exists raw') %}

    {% for name, columns in raw_contract().items() %}
        {% set parquet_path = folder ~ '/' ~ name ~ '.parquet' %}
        {% set csv_path = folder ~ '/' ~ name ~ '.csv' %}
        {% set found = run_query(
            "select (select count(*) from glob(" ~ sql_string(parquet_path) ~ ")) as parquet_files, "
            ~ "(select count(*) from glob(" ~ sql_string(csv_path) ~ ")) as csv_files"
        ) %}
        {% if found.columns[0].values()[0] > 0 and found.columns[1].values()[0] > 0 %}
            {% do raise_raw_contract_error('both_formats', folder, name=name) %}
        {% elif found.columns[0].values()[0] > 0 %}
            {% set file_path = parquet_path %}
            {% set reader = "read_parquet(" ~ sql_string(parquet_path) ~ ")" %}
        {% elif found.columns[1].values()[0] > 0 %}
            {% set file_path = csv_path %}
            {% if encoding == 'utf-8' %}
                {#- a Latin-1 / Windows-1252 export: one clear line instead of the CSV reader's error
                    (files above 512 MB are not pre-checked) -#}
                {% set utf8 = run_query(
                    "select size > 536870912 or try(decode(content)) is not null as ok from read_blob("
                    ~ sql_string(csv_path) ~ ")"
                ) %}
                {% if not utf8.columns[0].values()[0] %}
                    {% do exceptions.raise_compiler_error(
                        "Raw data contract: file '" ~ csv_path ~ "' is not UTF-8 (a Latin-1 or Windows-1252 export?). "
                        ~ "Save it as UTF-8, or read it as Latin-1: dbt build --vars '{raw_csv_encoding: latin-1}'."
                    ) %}
                {% endif %}
            {% endif %}
            {% set reader = "read_csv(" ~ sql_string(csv_path) ~ ", header = true, all_varchar = true, encoding = '" ~ encoding ~ "')" %}
        {% else %}
            {% do raise_raw_contract_error('not_found', folder, name=name) %}
        {% endif %}

        {% set described = run_query('describe select * from ' ~ reader) %}
        {% set physical = {} %}
        {% for row in described.rows %}
            {% do physical.update({(row[0] | lower): (row[1] | upper)}) %}
        {% endfor %}

        {% set select_list = [] %}
        {% set checks = [] %}
        {% for column, logical_type in columns %}
            {% if column not in physical %}
                {% do raise_raw_contract_error('missing_column', folder, file_path=file_path, column=column, logical_type=logical_type, found=(physical.keys() | list | join(', '))) %}
            {% endif %}
            {% set physical_type = physical[column] %}
            {% set allowed = castable[logical_type] %}
            {% set is_all_null = physical_type in ('"NULL"', 'NULL') %}
            {% if allowed is not none and not is_all_null and (physical_type.split('(')[0]) not in allowed %}
                {% do raise_raw_contract_error('wrong_type', folder, file_path=file_path, column=column, logical_type=logical_type, physical_type=physical_type) %}
            {% endif %}
            {% if is_all_null %}
                {#- a column written with only nulls has no type of its own: give it the contract's -#}
                {% do select_list.append("cast(" ~ adapter.quote(column) ~ " as " ~ logical_type ~ ") as " ~ adapter.quote(column)) %}
            {% elif physical_type == 'TIMESTAMP WITH TIME ZONE' %}
                {% do select_list.append("timezone('UTC', " ~ adapter.quote(column) ~ ") as " ~ adapter.quote(column)) %}
            {% elif logical_type != 'varchar' and physical_type == 'VARCHAR' %}
                {#- typed values given as text (CSV): blank is null; staging try_casts and counts failures -#}
                {% do select_list.append("nullif(trim(" ~ adapter.quote(column) ~ "), '') as " ~ adapter.quote(column)) %}
            {% else %}
                {% do select_list.append(adapter.quote(column)) %}
            {% endif %}
            {% if logical_type != 'varchar' and physical_type == 'VARCHAR' %}
                {% do checks.append((column, logical_type)) %}
            {% endif %}
        {% endfor %}

        {#- a typed column given as text: most values must parse -#}
        {% for column, logical_type in checks %}
            {% set parsed = run_query(
                "select count(" ~ adapter.quote(column) ~ ") as non_null, "
                ~ "count(*) filter (where nullif(trim(" ~ adapter.quote(column) ~ "), '') is not null and try_cast(trim("
                ~ adapter.quote(column) ~ ") as " ~ logical_type ~ ") is null) as failed, "
                ~ "any_value(" ~ adapter.quote(column) ~ ") filter (where nullif(trim(" ~ adapter.quote(column)
                ~ "), '') is not null and try_cast(trim(" ~ adapter.quote(column) ~ ") as " ~ logical_type
                ~ ") is null) as example from " ~ reader
            ) %}
            {% set non_null = parsed.columns[0].values()[0] %}
            {% set failed = parsed.columns[1].values()[0] %}
            {% if non_null > 0 and (failed / non_null) > limit %}
                {% do raise_raw_contract_error('unparseable', folder, file_path=file_path, column=column, logical_type=logical_type, failed=failed, non_null=non_null, example=parsed.columns[2].values()[0]) %}
            {% endif %}
        {% endfor %}

        {% do run_query(
            'create or replace view raw.' ~ name ~ ' as select ' ~ (select_list | join(', ')) ~ ' from ' ~ reader
        ) %}
        {% do check_raw_file_has_rows(name, file_path, folder) %}
        {% if name == 'touchpoints' %}
            {#- the events the real-time scoring API received since: rows of raw.touchpoints too -#}
            {% do register_received_touchpoints(select_list, reader, file_path) %}
        {% endif %}
    {% endfor %}
    {#- the default scoring date, computed once per run (read by scoring_at()): the received
        events count, so a rebuild after an event posted at T scores at T when T is the latest -#}
    {% do run_query(
        "create or replace table raw.run_context as select " ~ sql_string(var('raw_data_path'))
        ~ " as raw_data_path, latest_occurred_at from (" ~ latest_occurred_at_sql('raw.touchpoints') ~ ")"
    ) %}
    {{ return('') }}
{% endmacro %}

{% macro spark__register_raw_sources() %}
    {#-
        register_raw_sources on Spark: the same contract checks and messages as
        default__register_raw_sources, with Spark's readers. Each raw file of
        var raw_data_path (<name>.parquet, else <name>.csv) becomes the view
        raw.<name>: the contract's columns, text typed as text (staging casts).
    -#}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set folder = raw_data_folder() %}
    {% set limit = var('raw_malformed_share_limit') | float %}
    {% set spark_types = {'varchar': 'string', 'timestamp': 'timestamp', 'date': 'date', 'double': 'double', 'integer': 'int'} %}
    {% set castable = {
        'varchar': none,
        'timestamp': ['timestamp', 'timestamp_ntz', 'date', 'string'],
        'date': ['date', 'timestamp', 'timestamp_ntz', 'string'],
        'double': ['double', 'float', 'decimal', 'bigint', 'int', 'smallint', 'tinyint', 'string'],
        'integer': ['int', 'bigint', 'smallint', 'tinyint', 'double', 'float', 'decimal', 'string'],
    } %}
    {% do run_query('create database if not exists raw') %}
    {#- a missing folder stops the listing with Spark's own error ("[PATH_NOT_FOUND] Path does
        not exist: <folder>"; Spark SQL cannot test a path first): this line says which var it is -#}
    {{ log("raw contract: listing folder '" ~ folder ~ "' (var raw_data_path)", info=true) }}
    {#- the folder's files, listed once (binaryFile reads no content when only path is selected) -#}
    {% set listing = run_query(
        "select lower(regexp_extract(path, '([^/]+)$', 1)) as file_name from binaryFile.`" ~ folder ~ "`"
    ) %}
    {% set files = listing.columns[0].values() | list %}
    {% for name, columns in raw_contract().items() %}
        {% set has_parquet = (name ~ '.parquet') in files %}
        {% set has_csv = (name ~ '.csv') in files %}
        {% if has_parquet and has_csv %}
            {% do raise_raw_contract_error('both_formats', folder, name=name) %}
        {% elif has_parquet %}
            {% set file_path = folder ~ '/' ~ name ~ '.parquet' %}
            {% set reader = "parquet.`" ~ file_path ~ "`" %}
        {% elif has_csv %}
            {% set file_path = folder ~ '/' ~ name ~ '.csv' %}
            {#- an external table over the file: a permanent view may not read a temporary one -#}
            {% do run_query('drop table if exists raw.file_' ~ name) %}
            {% do run_query(
                "create table raw.file_" ~ name ~ " using csv options (path " ~ sql_string(file_path)
                ~ ", header 'true', inferSchema 'false', multiLine 'true', escape '\"', encoding "
                ~ sql_string({'utf-8': 'UTF-8', 'latin-1': 'windows-1252', 'utf-16': 'UTF-16'}[raw_csv_encoding_name()]) ~ ")"
            ) %}
            {% set reader = "raw.file_" ~ name %}
        {% else %}
            {% do raise_raw_contract_error('not_found', folder, name=name) %}
        {% endif %}
        {% set described = run_query('describe query select * from ' ~ reader) %}
        {% set physical = {} %}
        {% for row in described.rows %}
            {% do physical.update({(row[0] | lower): (row[1] | lower)}) %}
        {% endfor %}
        {% set select_list = [] %}
        {% set checks = [] %}
        {% for column, logical_type in columns %}
            {% if column not in physical %}
                {% do raise_raw_contract_error('missing_column', folder, file_path=file_path, column=column, logical_type=logical_type, found=(physical.keys() | list | join(', '))) %}
            {% endif %}
            {% set physical_type = physical[column].split('(')[0] %}
            {% set allowed = castable[logical_type] %}
            {% set is_all_null = physical_type in ('void', 'null') %}
            {% if allowed is not none and not is_all_null and physical_type not in allowed %}
                {% do raise_raw_contract_error('wrong_type', folder, file_path=file_path, column=column, logical_type=logical_type, physical_type=physical[column]) %}
            {% endif %}
            {% if is_all_null or (logical_type == 'varchar' and physical_type != 'string') %}
                {% do select_list.append("cast(`" ~ column ~ "` as " ~ spark_types[logical_type] ~ ") as `" ~ column ~ "`") %}
            {% elif logical_type != 'varchar' and physical_type == 'string' %}
                {% do select_list.append("nullif(trim(`" ~ column ~ "`), '') as `" ~ column ~ "`") %}
                {% do checks.append((column, logical_type)) %}
            {% else %}
                {% do select_list.append("`" ~ column ~ "`") %}
            {% endif %}
        {% endfor %}
        {% for column, logical_type in checks %}
            {% set parsed = run_query(
                "select count(`" ~ column ~ "`) as non_null, "
                ~ "count(case when nullif(trim(`" ~ column ~ "`), '') is not null and try_cast(trim(`" ~ column ~ "`) as "
                ~ spark_types[logical_type] ~ ") is null then 1 end) as failed, "
                ~ "min(case when nullif(trim(`" ~ column ~ "`), '') is not null and try_cast(trim(`" ~ column ~ "`) as "
                ~ spark_types[logical_type] ~ ") is null then `" ~ column ~ "` end) as example from " ~ reader
            ) %}
            {% set non_null = parsed.columns[0].values()[0] %}
            {% set failed = parsed.columns[1].values()[0] %}
            {% if non_null > 0 and (failed / non_null) > limit %}
                {% do raise_raw_contract_error('unparseable', folder, file_path=file_path, column=column, logical_type=logical_type, failed=failed, non_null=non_null, example=parsed.columns[2].values()[0]) %}
            {% endif %}
        {% endfor %}
        {% do run_query('create or replace view raw.' ~ name ~ ' as select ' ~ (select_list | join(', ')) ~ ' from ' ~ reader) %}
        {% do check_raw_file_has_rows(name, file_path, folder) %}
    {% endfor %}
    {% do run_query('drop table if exists raw.run_context') %}
    {% do run_query(
        "create table raw.run_context using parquet as select " ~ sql_string(var('raw_data_path'))
        ~ " as raw_data_path, latest_occurred_at from (" ~ latest_occurred_at_sql('raw.touchpoints') ~ ")"
    ) %}
    {{ return('') }}
{% endmacro %}

{% macro raw_csv_encoding_name() %}
    {#- var raw_csv_encoding as one of utf-8, latin-1 (also windows-1252), utf-16;
        any other value stops the run naming the var. -#}
    {% set encoding = var('raw_csv_encoding') | string | lower | replace('_', '-') %}
    {% set encodings = {'utf-8': 'utf-8', 'utf8': 'utf-8', 'latin-1': 'latin-1', 'latin1': 'latin-1', 'iso-8859-1': 'latin-1', 'windows-1252': 'latin-1', 'cp1252': 'latin-1', 'utf-16': 'utf-16'} %}
    {% if encoding not in encodings %}
        {% do exceptions.raise_compiler_error(
            "var raw_csv_encoding='" ~ var('raw_csv_encoding') ~ "' is not one of utf-8, latin-1 (also windows-1252), utf-16."
        ) %}
    {% endif %}
    {{ return(encodings[encoding]) }}
{% endmacro %}

{% macro raw_data_folder() %}
    {#- var raw_data_path without a trailing slash; a glob character stops the run. -#}
    {% set folder = (var('raw_data_path') | string).rstrip('/') %}
    {% if modules.re.search('[*?\\[\\]{}]', folder) %}
        {% do exceptions.raise_compiler_error(
            "var raw_data_path='" ~ folder ~ "' holds a glob character (* ? [ ] { }), so the folder would be read as a pattern: rename the folder or point the var at a path without them."
        ) %}
    {% endif %}
    {{ return(folder) }}
{% endmacro %}

{% macro raise_raw_contract_error(problem, folder, name='', file_path='', column='', logical_type='', found='', physical_type='', failed='', non_null='', example='') %}
    {#- Stops the run with the raw contract's message for problem, on every
        engine: the file, the column and the var to fix. -#}
    {% set how_to_fix = "Fix the file, or point the var at the right folder: dbt build --vars '{raw_data_path: /path/to/folder}'." %}
    {% set in_folder = " (var raw_data_path='" ~ folder ~ "'). " ~ how_to_fix %}
    {% set messages = {
        'both_formats': "Raw data contract: folder '" ~ folder ~ "' holds both '" ~ name ~ ".parquet' and '" ~ name
            ~ ".csv' (var raw_data_path): which one is current is not clear. Remove or rename the other.",
        'not_found': "Raw data contract: file '" ~ name ~ ".parquet' (or '" ~ name ~ ".csv') not found in folder '"
            ~ folder ~ "' (var raw_data_path). " ~ how_to_fix,
        'missing_column': "Raw data contract: file '" ~ file_path ~ "' has no column '" ~ column
            ~ "' (expected " ~ logical_type ~ "; found: " ~ found ~ ")" ~ in_folder,
        'wrong_type': "Raw data contract: column '" ~ column ~ "' of file '" ~ file_path ~ "' has type "
            ~ physical_type ~ ", which cannot be read as " ~ logical_type ~ in_folder,
        'unparseable': "Raw data contract: column '" ~ column ~ "' of file '" ~ file_path ~ "' cannot be parsed as "
            ~ logical_type ~ ": " ~ failed ~ " of " ~ non_null ~ " values fail (e.g. '" ~ example
            ~ "'; limit: var raw_malformed_share_limit=" ~ (var('raw_malformed_share_limit') | float) ~ ")" ~ in_folder,
        'no_rows': "Raw data contract: file '" ~ file_path ~ "' has no rows (only a header?)" ~ in_folder,
    } %}
    {% do exceptions.raise_compiler_error(messages[problem]) %}
{% endmacro %}

{% macro check_raw_file_has_rows(name, file_path, folder) %}
    {#- After raw.<name> is registered: a file with no rows stops the run, except
        the files a new account may hold empty (no conversion, no ad spend yet),
        which log a warning; then the file is logged as accepted. -#}
    {% set any_row = run_query('select count(*) from (select 1 from raw.' ~ name ~ ' limit 1)') %}
    {% if any_row.columns[0].values()[0] == 0 %}
        {% if name in ['conversions', 'ad_spend'] %}
            {{ log('WARNING raw contract: file ' ~ file_path ~ ' has no rows (a new account?): '
                ~ ('no conversion yet, so attribution tables are empty and leads are scored with the rules' if name == 'conversions' else 'no ad spend, so spend, ROAS and cost per conversion are empty'), info=true) }}
        {% else %}
            {% do raise_raw_contract_error('no_rows', folder, file_path=file_path) %}
        {% endif %}
    {% endif %}
    {{ log('raw contract ok: ' ~ file_path ~ ' -> raw.' ~ name, info=true) }}
{% endmacro %}
