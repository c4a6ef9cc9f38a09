"""The build benchmark's progress output (scripts/bench.py): which dbt lines it echoes while a
long build runs, and the size of DuckDB's spill folder it tracks."""

from __future__ import annotations

import importlib.util

from project import PROJECT_DIR

spec = importlib.util.spec_from_file_location("bench", PROJECT_DIR / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_progress_lines_are_models_and_seeds_starting_or_done_and_any_failure():
    model_start = "12:00:01  123 of 571 START sql table model main.base_web__touchpoints .. [RUN]"
    model_done = "12:00:09  123 of 571 OK created sql table model main.base_web__touchpoints [OK]"
    seed_done = "12:00:02  3 of 571 OK loaded seed file main.event_types .. [INSERT 12]"
    test_pass = "12:00:10  200 of 571 PASS not_null_stg_web__touchpoints_event_id .. [PASS in 0.1s]"
    test_fail = "12:00:11  201 of 571 FAIL 3 unique_stg_web__touchpoints_event_id [FAIL 3]"
    model_error = "12:00:12  202 of 571 ERROR creating sql table model main.x ..... [ERROR in 0.1s]"
    assert bench._is_progress(model_start)
    assert bench._is_progress(model_done)
    assert bench._is_progress(seed_done)
    assert not bench._is_progress(test_pass)
    assert bench._is_progress(test_fail)
    assert bench._is_progress(model_error)
    assert not bench._is_progress("12:00:00  Running with dbt=1.11.2")


def test_dbt_colours_are_left_out_of_progress_lines():
    coloured = "123 of 571 OK created model main.x [\x1b[32mOK\x1b[0m in 0.4s]"
    assert bench.ANSI.sub("", coloured) == "123 of 571 OK created model main.x [OK in 0.4s]"


def test_spill_folder_size_counts_its_files_and_a_missing_folder_is_empty(tmp_path):
    assert bench._tree_size(tmp_path / "absent.tmp") == 0
    folder = tmp_path / "warehouse.duckdb.tmp"
    folder.mkdir()
    (folder / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 5000)
    (folder / "duckdb_temp_block-1.block").write_bytes(b"y" * 300)
    assert bench._tree_size(folder) == 5300


def test_clock_reads_minutes_and_seconds():
    assert bench._clock(0) == "00:00"
    assert bench._clock(61.9) == "01:01"
    assert bench._clock(25 * 60 + 5) == "25:05"
