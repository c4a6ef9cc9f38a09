{% macro register_received_touchpoints(select_list, reader, file_path) %}
    {{ return(adapter.dispatch('register_received_touchpoints', 'lead_scoring')(select_list, reader, file_path)) }}
{% endmacro %}

{% macro default__register_received_touchpoints(select_list, reader, file_path) %}
    {#-
        Called by register_raw_sources once raw.touchpoints exposes the raw file
        (select_list over reader, read from file_path). The real-time scoring API
        appends every event it receives to <var received_events_path>/touchpoints.jsonl:
        one JSON object per line with the touchpoint contract columns (strings or
        null; duration_seconds a whole number or null; occurred_at UTC text
        'YYYY-MM-DD HH:MM:SS.ffffff'); other keys (received_at) are ignored.
        When that file holds events:
          1. it is read once into the table raw.received_touchpoints: a snapshot,
             so every model of the run sees the same events (lines appended during
             the build wait for the next one);
          2. every line is checked: a line that is not a JSON object (cut short by a
             crash) or holds a value of the wrong type stops the run with a message
             naming the file, the line and the fix; nothing is dropped silently;
          3. raw.touchpoints becomes the raw file's rows union all the received
             events, cast to the types the raw view has (Parquet typed, CSV text),
             so staging treats them exactly as raw rows: an event also delivered by
             the raw export is a duplicate_event_id, counted once.
        No folder, no file or an empty one: raw.touchpoints is left as it is.
    -#}
    {% set configured = var('received_events_path', none) %}
    {% set folder = '' if configured is none else (configured | string | trim).rstrip('/') %}
    {% set events_path = folder ~ '/touchpoints.jsonl' %}
    {% set how_to_fix = "Fix or delete that line (a partial last line is what the API left when it stopped mid-write: delete it), "
        ~ "or move the file away to build without the received events "
        ~ "(var received_events_path, env LEAD_SCORING_RECEIVED_EVENTS)." %}
    {% if folder == '' %}
        {% do run_query('drop table if exists raw.received_touchpoints') %}
        {{ return('') }}
    {% endif %}
    {% if modules.re.search('[*?\\[\\]{}]', folder) %}
        {% do exceptions.raise_compiler_error(
            "var received_events_path='" ~ folder ~ "' holds a glob character (* ? [ ] { }), so the folder would be read as a pattern: rename the folder or point the var (env LEAD_SCORING_RECEIVED_EVENTS) at a path without them."
        ) %}
    {% endif %}

    {#- 1. the file: present, non-empty, UTF-8 -#}
    {% set found = run_query("select count(*) from glob(" ~ sql_string(events_path) ~ ")") %}
    {% if found.columns[0].values()[0] == 0 %}
        {% do run_query('drop table if exists raw.received_touchpoints') %}
        {{ log('received events: no file ' ~ events_path ~ ' (var received_events_path): raw.touchpoints is file ' ~ file_path ~ ' only', info=true) }}
        {{ return('') }}
    {% endif %}
    {% set blob = run_query(
        "select size, size = 0 or try(decode(content)) is not null as is_utf8 from read_blob("
        ~ sql_string(events_path) ~ ")"
    ) %}
    {% if not blob.columns[1].values()[0] %}
        {% do exceptions.raise_compiler_error(
            "Received events: file '" ~ events_path ~ "' is not UTF-8 (var received_events_path). "
            ~ "The API writes UTF-8 JSON lines: was the file edited or replaced? Fix it, or move it away to build without the received events."
        ) %}
    {% endif %}
    {% if blob.columns[0].values()[0] == 0 %}
        {% do run_query('drop table if exists raw.received_touchpoints') %}
        {{ log('received events: file ' ~ events_path ~ ' is empty: raw.touchpoints is file ' ~ file_path ~ ' only', info=true) }}
        {{ return('') }}
    {% endif %}

    {#- 2. the snapshot: one row per non-blank line, each value with its JSON type -#}
    {% set contract = raw_contract()['touchpoints'] %}
    {% set received_types = {'varchar': 'varchar', 'timestamp': 'timestamp', 'integer': 'bigint'} %}
    {% set fields = [] %}
    {% for column, logical_type in contract %}
        {% do fields.append('"' ~ column ~ '": "JSON"') %}
    {% endfor %}
    {% set problems = [] %}
    {% for column, logical_type in contract %}
        {% set json_type = "coalesce(json_type(document." ~ column ~ "), 'NULL')" %}
        {#- the JSON type in words, for the message -#}
        {% set json_kind = "case " ~ json_type ~ " when 'VARCHAR' then 'a string' when 'UBIGINT' then 'a whole number' "
            ~ "when 'BIGINT' then 'a whole number' when 'DOUBLE' then 'a decimal number' when 'BOOLEAN' then 'a boolean' "
            ~ "when 'OBJECT' then 'an object' when 'ARRAY' then 'an array' else lower(" ~ json_type ~ ") end" %}
        {% set value = "(document." ~ column ~ " ->> '$')" %}
        {% if column == 'event_id' %}
            {% do problems.append(
                "when " ~ json_type ~ " <> 'VARCHAR' or trim(" ~ value ~ ") = '' then 'no event_id (expected a non-empty string; got '"
                ~ " || coalesce(cast(document.event_id as varchar), 'nothing') || ')'"
            ) %}
        {% elif logical_type == 'varchar' %}
            {% do problems.append(
                "when " ~ json_type ~ " not in ('VARCHAR', 'NULL') then '" ~ column ~ " is ' || " ~ json_kind
                ~ " || ' (' || cast(document." ~ column ~ " as varchar) || '), expected a string or null'"
            ) %}
        {% elif logical_type == 'timestamp' %}
            {% do problems.append(
                "when " ~ json_type ~ " not in ('VARCHAR', 'NULL') or (" ~ json_type ~ " = 'VARCHAR' and not (regexp_full_match("
                ~ value ~ ", '\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?') and try_cast(" ~ value
                ~ " as timestamp) is not null)) then '" ~ column ~ " is ' || cast(document." ~ column
                ~ " as varchar) || ', expected a UTC timestamp as text, ''YYYY-MM-DD HH:MM:SS.ffffff'' (no offset), or null'"
            ) %}
        {% else %}
            {% do problems.append(
                "when " ~ json_type ~ " not in ('UBIGINT', 'BIGINT', 'NULL') then '" ~ column ~ " is ' || "
                ~ json_kind ~ " || ' (' || cast(document." ~ column ~ " as varchar) || '), expected a whole number or null'"
            ) %}
        {% endif %}
    {% endfor %}
    {% set typed_values = [] %}
    {% for column, logical_type in contract %}
        {% do typed_values.append(
            "try_cast(document." ~ column ~ " ->> '$' as " ~ received_types[logical_type] ~ ") as " ~ adapter.quote(column)
        ) %}
    {% endfor %}
    {% set snapshot_sql %}
        create or replace table raw.received_touchpoints as
        with lines as (
            select
                unnest(range(1, len(parts) + 1)) as line_number,
                unnest(parts) as line,
                -- a file ending with a newline ends with a blank part: a non-blank last part is a
                -- last line without its newline (cut short, or being written right now)
                len(parts) as last_part_number
            from (select string_split(decode(content), chr(10)) as parts from read_blob({{ sql_string(events_path) }}))
        ),
        documents as (
            select
                line_number,
                line,
                line_number = last_part_number as is_unterminated,
                case when json_valid(line) then lower(json_type(line)) end as line_type,
                case when json_valid(line) and json_type(line) = 'OBJECT'
                    then from_json(line, '{ {{- fields | join(', ') -}} }') end as document
            from lines
            where trim(line, ' ' || chr(9) || chr(13)) <> ''
        ),
        checked as (
            select
                line_number,
                line,
                document,
                case
                    when line_type is null and is_unterminated then 'not valid JSON and no newline at its end: an event cut short by a crash (or, while the API runs, being written: then rebuild in a moment)'
                    when line_type is null then 'not valid JSON (an event cut short by a crash?)'
                    when line_type <> 'object' then 'not a JSON object (a JSON ' || line_type || ')'
                    {{ problems | join('\n                    ') }}
                end as problem
            from documents
        )
        select
            line_number,
            problem,
            case when problem is not null then left(line, 120) end as line_excerpt,
            {{ typed_values | join(',\n            ') }}
        from checked
    {% endset %}
    {% do run_query(snapshot_sql) %}

    {#- 3. every line must be an event: name the first bad one -#}
    {% set checked = run_query(
        "select count(*) as events, count(*) filter (where problem is not null) as bad_lines, "
        ~ "min(line_number) filter (where problem is not null) as first_bad_line, "
        ~ "arg_min(problem, line_number) filter (where problem is not null) as problem, "
        ~ "arg_min(line_excerpt, line_number) filter (where problem is not null) as line_excerpt "
        ~ "from raw.received_touchpoints"
    ) %}
    {% set events = checked.columns[0].values()[0] %}
    {% set bad_lines = checked.columns[1].values()[0] %}
    {% if bad_lines > 0 %}
        {% do exceptions.raise_compiler_error(
            "Received events: file '" ~ events_path ~ "', line " ~ checked.columns[2].values()[0] ~ ": "
            ~ checked.columns[3].values()[0] ~ ": '" ~ checked.columns[4].values()[0] ~ "'"
            ~ (" (" ~ bad_lines ~ " bad lines in all)" if bad_lines > 1 else "") ~ ". " ~ how_to_fix
        ) %}
    {% endif %}
    {% if events == 0 %}
        {% do run_query('drop table if exists raw.received_touchpoints') %}
        {{ log('received events: file ' ~ events_path ~ ' holds no event (blank lines only): raw.touchpoints is file ' ~ file_path ~ ' only', info=true) }}
        {{ return('') }}
    {% endif %}

    {#- 4. cast to the raw view's types; a value that would not survive the cast is named -#}
    {% set raw_types = {} %}
    {% for row in run_query('describe raw.touchpoints').rows %}
        {% do raw_types.update({(row[0] | lower): row[1]}) %}
    {% endfor %}
    {% set received_select = [] %}
    {% set lossy = [] %}
    {% for column, logical_type in contract %}
        {% set raw_type = raw_types[column] %}
        {% set quoted = adapter.quote(column) %}
        {% if (raw_type | upper) == (received_types[logical_type] | upper) %}
            {% do received_select.append(quoted) %}
        {% else %}
            {% do received_select.append("cast(" ~ quoted ~ " as " ~ raw_type ~ ") as " ~ quoted) %}
            {% do lossy.append(
                "when " ~ quoted ~ " is not null and cast(try_cast(" ~ quoted ~ " as " ~ raw_type ~ ") as "
                ~ received_types[logical_type] ~ ") is distinct from " ~ quoted ~ " then '" ~ column
                ~ " ' || cast(" ~ quoted ~ " as varchar) || ' cannot be stored as " ~ raw_type ~ "'"
            ) %}
        {% endif %}
    {% endfor %}
    {% if lossy %}
        {% set cast_check = run_query(
            "select min(line_number) as line_number, arg_min(problem, line_number) as problem from ("
            ~ "select line_number, case " ~ (lossy | join(' ')) ~ " end as problem from raw.received_touchpoints"
            ~ ") where problem is not null"
        ) %}
        {% if cast_check.columns[0].values()[0] is not none %}
            {% do exceptions.raise_compiler_error(
                "Received events: file '" ~ events_path ~ "', line " ~ cast_check.columns[0].values()[0] ~ ": "
                ~ cast_check.columns[1].values()[0] ~ ", the type of that column in raw file '" ~ file_path
                ~ "' (var raw_data_path). " ~ how_to_fix
            ) %}
        {% endif %}
    {% endif %}
    {% do run_query(
        'create or replace view raw.touchpoints as select ' ~ (select_list | join(', ')) ~ ' from ' ~ reader
        ~ ' union all select ' ~ (received_select | join(', ')) ~ ' from raw.received_touchpoints'
    ) %}
    {{ log('received events ok: ' ~ events ~ ' events of ' ~ events_path ~ ' -> raw.touchpoints (with ' ~ file_path ~ ')', info=true) }}
    {{ return('') }}
{% endmacro %}
