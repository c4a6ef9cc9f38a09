"""The model report (`lead-scoring report`): fast tests on a small hand-built warehouse (every
section, the optional monitoring tables present / absent / empty / shaped differently, the
rule-based fallback, clean errors). The report on a real `dbt build` of the committed sample is
tests/e2e/test_report_e2e.py."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from project import PROJECT_DIR
from report_page import SECTION_TITLES, page_cell, page_images

from lead_scoring.cli import main
from lead_scoring.crm import OUTBOX_DDL
from lead_scoring.ml.metrics import LIFT_COLUMNS
from lead_scoring.report import REQUIRED_TABLES, ReportError, build_report
from lead_scoring.report.formatting import (
    cell_text,
    fmt_num,
    fmt_pct,
    fmt_points,
    fmt_signed,
    fmt_time,
    fmt_times,
    need,
    pick,
)
from lead_scoring.report.formatting import table as frame_table
from lead_scoring.report.rendering import environment, note
from lead_scoring.report.sections.business import short_mix
from lead_scoring.report.sections.model import arrow, auc_verdict, band_summary, is_better

NOT_AVAILABLE = "Not available yet"
VERSION = "abc123def456"


# ---------------------------------------------------------------- a small warehouse


def _frames(fallback: bool = False) -> dict[str, pd.DataFrame]:
    """Small versions of the report's required tables, with the build's column names."""
    version = "rules-0a1b2c3d" if fallback else VERSION
    splits = ["train", "valid", "calib", "test"]
    starts = pd.to_datetime(["2024-01-01", "2024-09-01", "2024-11-01", "2025-01-01"])
    ends = pd.to_datetime(["2024-09-01", "2024-11-01", "2025-01-01", "2025-03-01"])
    registry = {
        "model_version": [VERSION, version],
        "model_name": ["xgboost", "rule_points" if fallback else "xgboost"],
        # the older row must lose: the report picks the latest trained_at
        "trained_at": pd.to_datetime(["2025-01-01 08:00", "2025-04-02 09:30"]),
        "horizon_days": [30, 30],
        "n_train_rows": [900, 5000],
        "n_train_positives": [40, 120],
        "chosen_calibrator": ["isotonic", None if fallback else "platt"],
        "metadata_json": [
            "{}",
            '{"fallback_reason": "only 12 positive labels in train (< 50)"}'
            if fallback
            else '{"band_thresholds": {"A": 0.2, "B": 0.1, "C": 0.05}, "base_rate": 0.05}',
        ],
        "booster_blob": [b"x", None],
        "metrics_table_json": ["{}", "{}"],
    }
    for split, start, end in zip(splits, starts, ends, strict=True):
        registry[f"{split}_start"] = [pd.NaT, pd.NaT if fallback else start]
        registry[f"{split}_end"] = [pd.NaT, pd.NaT if fallback else end]
    frames = {"ml_models": pd.DataFrame(registry)}

    models = {"xgboost": 0.8123, "logistic_regression": 0.7891, "rule_points": 0.7012}
    # rows of an older version and of other splits come first: they must not leak into the
    # headline numbers
    metrics = [(VERSION, "xgboost", "train", "auc", 0.99)]
    metrics += [("old000000000", name, "test", "auc", 0.5) for name in models]
    for name, auc in models.items():
        values = {
            "auc": auc,
            "pr_auc": auc / 4,
            "brier": 0.04 - auc / 100,
            "ece_equal_mass": 0.006,
            "observed_to_expected": 1.0 + (auc - 0.8),
            "log_loss": 0.2 - auc / 10,
            "recall_at_10": 0.41,
            "lift_at_10": 4.1,
            "positive_rate": 0.05,
            "n_rows": 2000.0,
        }
        metrics += [(VERSION, name, "test", m, v) for m, v in values.items()]
    frames["ml_model_metrics"] = pd.DataFrame(
        metrics, columns=["model_version", "model_name", "split", "metric", "value"]
    )
    bins, lift = [], []
    for name in models:
        for b in range(5):
            bins.append(
                (
                    VERSION,
                    name,
                    "test",
                    b,
                    b / 5,
                    (b + 1) / 5,
                    b / 5 + 0.1,
                    b / 5 + 0.08,
                    400 - 50 * b,
                    10 * b,
                )
            )
        recall = 0.0
        for decile in range(1, 11):
            recall = min(1.0, recall + (11 - decile) / 55)
            lift.append(
                (
                    VERSION,
                    name,
                    "test",
                    decile,
                    200,
                    10 - decile // 2,
                    0.05 * (10 - decile // 2) / 10,
                    (11 - decile) / 5.5,
                    0.01 * (11 - decile),
                    0.01 * (12 - decile),
                    0.01 * (11.5 - decile),
                    200 * decile,
                    0,
                    0.0,
                    1.0,
                    recall,
                )
            )
    frames["ml_calibration_bins"] = pd.DataFrame(
        bins,
        columns=[
            "model_version",
            "model_name",
            "split",
            "bin",
            "bin_lower",
            "bin_upper",
            "mean_predicted",
            "observed_rate",
            "count",
            "n_positives",
        ],
    )
    frames["ml_lift_by_decile"] = pd.DataFrame(
        lift,
        columns=["model_version", "model_name", "split", *LIFT_COLUMNS],
    )
    features = [f"feature_{i:02d}" for i in range(20)]
    frames["ml_feature_importance"] = pd.DataFrame(
        {
            "model_version": VERSION,
            "feature": features,
            "feature_label": [f"Label of feature {i:02d}" for i in range(20)],
            "mean_abs_shap": [1 / (i + 1) for i in range(20)],
            "share": [0.05] * 20,
            "rank": range(1, 21),
            "gain": [10.0] * 20,
        }
    )
    frames["ml_segment_metrics"] = pd.DataFrame(
        {
            "model_version": VERSION,
            "model_name": "xgboost",
            "split": "test",
            "segment_column": ["industry", "industry", "region"],
            "segment_value": ["software", "government", "apac"],
            "n_rows": [900, 120, 400],
            "n_positives": [50, 2, 20],
            "positive_rate": [0.055, 0.017, 0.05],
            "mean_predicted": [0.05, 0.06, 0.05],
            "calibration_gap": [-0.005, 0.043, 0.0],
            "auc": [0.82, 0.55, 0.80],
            "overall_auc": 0.8123,
            "auc_gap": [0.82 - 0.8123, 0.55 - 0.8123, 0.80 - 0.8123],  # segment minus overall
            "is_flagged": [False, True, False],
            "flag_reason": [None, "calibration, auc", None],
        }
    )
    attribution = []
    for order, model in enumerate(["first_touch", "last_touch", "markov"], start=1):
        for channel, spend in (("paid_search", 1200.0), ("email", None), ("direct", None)):
            conv = 3.0 + order
            roas = None if spend is None else 900.0 * conv / spend
            cpa = None if spend is None else spend / conv
            attribution.append((model, channel, conv, 900.0 * conv, spend, roas, cpa, order))
    frames["fct_channel_attribution"] = pd.DataFrame(
        attribution,
        columns=[
            "attribution_model",
            "channel",
            "attributed_conversions",
            "attributed_revenue",
            "spend",
            "roas",
            "cost_per_conversion",
            "attribution_model_order",
        ],
    )
    probability = [0.01, 0.02, 0.04, 0.06, 0.12, 0.25, 0.5]
    band = ["D", "D", "C", "C", "B", "A", "A"]
    frames["scored_leads"] = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(7)],
            "scored_at": pd.Timestamp("2025-04-01"),
            "conversion_probability": probability,
            "lead_score": [round(100 * p) for p in probability],
            "score_band": band,
            "top_factors": "Seniority: vp (+)",
            "model_version": version,
            "lead_priority": [15, 29, 43, 58, 72, 86, 100],
            "lift": [p / 0.05 for p in probability],
            "reasons_for": [None] + ["Seniority: vp"] * 6,
            "reasons_against": ["Personal email address: yes"] * 6 + [None],
        }
    )
    if fallback:
        for table in (
            "ml_model_metrics",
            "ml_calibration_bins",
            "ml_lift_by_decile",
            "ml_feature_importance",
            "ml_segment_metrics",
        ):
            frames[table] = frames[table].iloc[0:0]
    return frames


def _monitoring_frames() -> dict[str, pd.DataFrame]:
    """The monitoring tables with the columns planned for them."""
    scored = pd.to_datetime(["2025-03-01", "2025-04-01"])
    drift = pd.DataFrame(
        {
            "model_version": VERSION,
            "scored_at": [scored[1]] * 3 + [scored[0]],
            "drift_scope": ["score", "feature", "feature", "feature"],
            "feature": ["conversion_probability", "industry", "pricing_page_views_30d", "industry"],
            "psi": [0.031, 0.42, 0.12, 0.9],
            "ks_statistic": [0.05, 0.3, 0.1, 0.5],
            "reference_rows": 1000,
            "current_rows": 700,
            "drift_level": ["stable", "major", "moderate", "major"],
        }
    )
    backtest = pd.DataFrame(
        {
            "scored_at": [scored[0]] * 5 + [scored[1]],
            "model_version": VERSION,
            "score_band": ["all", "A", "B", "C", "D", "all"],
            "n_leads": [500, 20, 40, 90, 350, 480],
            "n_converted": [25, 6, 6, 6, 7, 22],
            "conversion_rate": [0.05, 0.3, 0.15, 0.0667, 0.02, 0.0458],
            "mean_probability": [0.048, 0.28, 0.13, 0.07, 0.02, 0.05],
            "auc": [0.7777, None, None, None, None, 0.7654],
            "brier": 0.04,
        }
    )
    health = pd.DataFrame(
        {
            "scored_at": scored,
            "model_version": VERSION,
            "registered_test_auc": 0.8123,
            "backtest_auc": [0.7777, 0.7654],
            "auc_drop": [0.0346, 0.0469],
            "score_psi": [0.02, 0.031],
            "max_feature_psi": [0.9, 0.42],
            "calibration_gap": [0.002, 0.004],
            "n_segments_flagged": [1, 1],
            "requires_retraining": [False, True],
            "reasons": ["", "feature drift: industry PSI 0.42 > 0.25"],
        }
    )
    channel_mix = pd.DataFrame(
        {
            "channel_mix": ["email + organic_search", "paid_social", "other combinations"],
            "is_pooled": [False, False, True],
            "channel_count": [2, 1, None],
            "combination_count": [1, 1, 7],
            "n_leads": [120, 80, 300],
            "n_distinct_leads": [110, 80, 290],
            "n_converted": [6, 0, 9],
            "mean_conversion_probability": [0.04, 0.01, 0.03],
            "conversion_rate": [0.05, 0.0, 0.03],
            "base_conversion_rate": 0.03,
            "lift": [0.05 / 0.03, 0.0, 1.0],
            "matured_run_count": 2,
        }
    )
    return {
        "ml_drift": drift,
        "ml_backtest": backtest,
        "ml_model_health": health,
        "fct_channel_mix_performance": channel_mix,
        "ml_experiment_results": _experiment_frame(),
    }


def _experiment_frame() -> pd.DataFrame:
    """ml_experiment_results of one experiment (rows in another order than the report's)."""
    rows = [  # segment_type, segment, model conv / leads, rules conv / leads, interval
        ("band", "D", 3, 700, 4, 690, (-0.0091, 0.0068)),
        ("top_k", "top_10pct", 9, 100, 3, 100, (0.0016, 0.1243)),
        ("top_k", "top_20pct", 11, 200, 6, 200, (-0.0168, 0.0688)),
        ("band", "A", 5, 40, 2, 40, (-0.0654, 0.2203)),
        ("band", "B", 4, 60, 2, 60, (-0.0488, 0.1199)),
        ("band", "C", 0, 0, 1, 90, (None, None)),
    ]
    frame = pd.DataFrame(
        [
            {
                "experiment_name": "model_vs_rules",
                "segment_type": kind,
                "segment": segment,
                "matured_runs": 2,
                "model_leads": model_leads,
                "model_conversions": model_conv,
                "model_conversion_rate": model_conv / model_leads if model_leads else None,
                "rules_leads": rules_leads,
                "rules_conversions": rules_conv,
                "rules_conversion_rate": rules_conv / rules_leads,
                "rate_difference": (
                    model_conv / model_leads - rules_conv / rules_leads if model_leads else None
                ),
                "ci_lower": low,
                "ci_upper": high,
                "is_significant": low is not None and (low > 0 or high < 0),
            }
            for kind, segment, model_conv, model_leads, rules_conv, rules_leads, (low, high) in rows
        ]
    )
    return frame.astype({"rate_difference": "float64", "model_conversion_rate": "float64"})


def _write(path: Path, frames: dict[str, pd.DataFrame]) -> Path:
    con = duckdb.connect(str(path))
    try:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"create or replace table main.{name} as select * from frame")
            con.unregister("frame")
    finally:
        con.close()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return _write(tmp_path / "wh.duckdb", _frames())


# ---------------------------------------------------------------- helpers


def _section(page: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)
    assert match, anchor
    return match.group(1)


def _report(duckdb_path: Path, out: Path) -> str:
    return build_report(duckdb_path, out).read_text(encoding="utf-8")


# ---------------------------------------------------------------- fast tests


def test_report_has_every_section_and_the_headline_numbers(warehouse: Path, tmp_path: Path):
    page = _report(warehouse, tmp_path / "out")
    for title in SECTION_TITLES:
        assert f"<h2>{title}</h2>" in page
    assert VERSION in page and "2025-04-02 09:30" in page  # the latest registry row
    metrics = (
        duckdb.connect(str(warehouse), read_only=True)
        .sql(
            "select model_name, metric, value from ml_model_metrics "
            f"where split = 'test' and model_version = '{VERSION}'"
        )
        .df()
        .set_index(["model_name", "metric"])["value"]
    )
    for model in ("xgboost", "logistic_regression", "rule_points"):
        shown = page_cell(page, f'data-model="{model}" data-metric="auc"')
        assert shown == f"{metrics[(model, 'auc')]:.3f}"
        assert page_cell(page, f'data-model="{model}" data-metric="brier"') == (
            f"{metrics[(model, 'brier')]:.4f}"
        )
    margin = metrics[("xgboost", "auc")] - metrics[("logistic_regression", "auc")]
    assert (
        page_cell(page, 'data-margin="logistic_regression" data-metric="auc"') == f"+{margin:.3f}"
    )
    # reliability, gains/lift, score histogram, importance, attribution
    assert len(page_images(page)) == 5
    assert "Label of feature 00" not in page  # labels are drawn into the PNG, not the HTML
    assert page.count('<tr class="flag">') == 1  # the one flagged segment, highlighted
    optional = (
        "ml_drift",
        "ml_backtest",
        "ml_model_health",
        "fct_channel_mix_performance",
        "ml_experiment_results",
    )
    for table in optional:
        assert f"table main.{table} is not in this warehouse" in page
    assert "the CRM sync has not run against this warehouse" in _section(page, "crm")
    assert page.count(NOT_AVAILABLE) == len(optional) + 1
    assert "<script" not in page.lower() and "http" not in page.lower()
    # the top open leads: by priority, with band, probability, lift and reasons for / against
    top = _section(page, "top_leads")
    assert top.index("L6") < top.index("L5") < top.index("L0")
    for text in ("priority", "reasons for", "reasons against", "10.0×", "50.0%", "Seniority: vp"):
        assert text in top
    assert "Personal email address: yes" in top


def test_top_open_leads_is_not_available_on_an_older_build(warehouse: Path, tmp_path: Path):
    con = duckdb.connect(str(warehouse))
    con.execute("alter table main.scored_leads drop column lead_priority")
    con.close()
    page = _report(warehouse, tmp_path / "out")
    assert NOT_AVAILABLE in _section(page, "top_leads")
    assert "no lead_priority" in _section(page, "top_leads")


def test_monitoring_sections_render_from_their_tables(tmp_path: Path):
    path = _write(tmp_path / "wh.duckdb", {**_frames(), **_monitoring_frames()})
    con = duckdb.connect(str(path))
    con.execute(OUTBOX_DDL)
    con.execute(
        """
        insert into crm_sync.outbox (lead_id, payload_hash, payload_json, status, attempts,
                                     last_error, enqueued_at, delivered_at)
        select 'L' || range, 'h', '{}', 'delivered', 1, null, timestamp '2025-06-30',
               timestamp '2025-06-30 00:01' from range(3)
        union all
        select 'L9', 'h', '{}', 'dead_letter', 3, 'HTTP 422: score out of range',
               timestamp '2025-06-30', null
        """
    )
    con.close()
    page = _report(path, tmp_path / "out")
    assert NOT_AVAILABLE not in page
    drift = _section(page, "drift")
    assert "Score distribution: PSI 0.031" in drift
    assert '<tr class="major">' in drift and '<tr class="moderate">' in drift
    backtest = _section(page, "backtest")
    assert "0.778" in backtest and "0.765" in backtest
    health = _section(page, "health")
    # the latest health check decides, with its reasons
    assert "Retraining recommended" in health and "industry PSI 0.42 &gt; 0.25" in health
    # drift bars, backtest by band, backtest AUC over time, channel-mix lift, A/B test
    assert len(page_images(page)) == 5 + 3 + 2
    mixes = _section(page, "channel_mix")
    assert "1.67×" in mixes and "other combinations" in mixes
    # the largest mix first, the pooled row last
    assert mixes.index("email + organic_search") < mixes.index("paid_social")
    assert mixes.index("paid_social") < mixes.rindex("other combinations")
    crm = _section(page, "crm")
    assert "1 lead(s) in the dead letter, 0 failed, 0 pending" in crm
    assert "HTTP 422: score out of range" in crm and "delivered" in crm


def test_experiment_section_shows_each_arm_the_difference_and_its_interval(tmp_path: Path):
    path = _write(tmp_path / "wh.duckdb", {**_frames(), **_monitoring_frames()})
    experiment = _section(_report(path, tmp_path / "out"), "experiment")
    assert "model_vs_rules" in experiment and "2 matured scoring run(s)" in experiment
    assert "9 / 100 = 9.00%" in experiment and "3 / 100 = 3.00%" in experiment
    assert "+6.00 pt" in experiment and "+0.16 to +12.43 pt" in experiment
    # the segments in the report's order: top 10%, top 20%, then the bands
    order = [experiment.index(label) for label in ("top 10%", "top 20%", "band A", "band D")]
    assert order == sorted(order)
    # only the top 10% is significant (bold); an arm without leads has no interval
    assert experiment.count('<tr class="main">') == 1
    assert "0 / 0 = –" in experiment
    assert len(page_images(experiment)) == 1


def test_experiment_section_says_how_to_start_one_or_that_it_is_maturing(tmp_path: Path):
    monitoring = _monitoring_frames()
    empty = monitoring["ml_experiment_results"].iloc[0:0]
    frames = {**_frames(), **monitoring, "ml_experiment_results": empty}
    page = _report(_write(tmp_path / "wh.duckdb", frames), tmp_path / "out")
    section = _section(page, "experiment")
    assert NOT_AVAILABLE in section
    assert "no experiment running: set var experiment_rules_share" in section
    # an experiment whose first run has not matured yet says so instead
    scored = frames["scored_leads"].assign(experiment_arm=["model", "rules"] * 3 + ["rules"])
    frames = {**frames, "scored_leads": scored}
    page = _report(_write(tmp_path / "wh2.duckdb", frames), tmp_path / "out2")
    section = _section(page, "experiment")
    assert "an experiment is running (4 open leads in the rules arm" in section
    assert "set var experiment_rules_share" not in section


def test_empty_or_reshaped_optional_tables_fail_soft(tmp_path: Path, capsys):
    monitoring = _monitoring_frames()
    frames = {
        **_frames(),
        "ml_drift": monitoring["ml_drift"].drop(columns="psi"),  # a renamed column
        "ml_backtest": monitoring["ml_backtest"].iloc[0:0],  # first run: nothing matured
        "ml_model_health": monitoring["ml_model_health"].rename(
            columns={"requires_retraining": "needs_retraining", "reasons": "reason"}
        ),
        "fct_channel_mix_performance": monitoring["fct_channel_mix_performance"].iloc[0:0],
        "ml_experiment_results": monitoring["ml_experiment_results"].drop(
            columns="rate_difference"
        ),
    }
    page = _report(_write(tmp_path / "wh.duckdb", frames), tmp_path / "out")
    assert NOT_AVAILABLE in _section(page, "drift")
    err = capsys.readouterr().err
    assert "psi" in err  # the skipped section is named on stderr
    assert "main.ml_backtest is empty" in _section(page, "backtest")
    assert "Retraining recommended" in _section(page, "health")  # small naming differences
    assert "main.fct_channel_mix_performance is empty" in _section(page, "channel_mix")
    assert NOT_AVAILABLE in _section(page, "experiment")
    assert "rate_difference" in err  # named on stderr too


def test_rule_fallback_is_said_prominently(tmp_path: Path):
    page = _report(_write(tmp_path / "wh.duckdb", _frames(fallback=True)), tmp_path / "out")
    assert '<div class="banner"><strong>Rule-based fallback.' in page
    assert "only 12 positive labels in train" in page
    assert "rules-0a1b2c3d" in page
    assert NOT_AVAILABLE in _section(page, "headline")
    assert NOT_AVAILABLE in _section(page, "reliability")
    assert len(page_images(page)) == 2  # the score histogram and the attribution still draw


def test_cli_prints_the_path_and_defaults_to_the_env_warehouse(
    warehouse: Path, tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.setenv("LEAD_SCORING_DUCKDB", str(warehouse))
    out = tmp_path / "reports"
    assert main(["report", "--out", str(out)]) == 0
    index = (out / "index.html").resolve()
    assert capsys.readouterr().out.strip() == f"report: {index}"
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]  # no temporary file left


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("drop table main.ml_lift_by_decile", "table main.ml_lift_by_decile is missing"),
        ("alter table main.scored_leads drop column score_band", "has no column 'score_band'"),
    ],
)
def test_missing_required_table_is_a_clean_error(
    warehouse: Path, tmp_path: Path, capsys, damage: str, expected: str
):
    con = duckdb.connect(str(warehouse))
    con.execute(damage)
    con.close()
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("previous report")
    assert main(["report", "--duckdb", str(warehouse), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "run dbt build first" in err and str(warehouse) in err
    assert len(err.strip().splitlines()) == 1
    assert (out / "index.html").read_text() == "previous report"  # untouched


def test_missing_or_locked_warehouse_exits_2_without_traceback(warehouse: Path, tmp_path: Path):
    command = [sys.executable, "-m", "lead_scoring.cli", "report", "--out", str(tmp_path / "o")]
    missing = subprocess.run(
        [*command, "--duckdb", str(tmp_path / "nope.duckdb")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "nope.duckdb" in missing.stderr
    holder = duckdb.connect(str(warehouse))  # a build writing the file holds its lock
    try:
        locked = subprocess.run(
            [*command, "--duckdb", str(warehouse)], capture_output=True, text=True
        )
    finally:
        holder.close()
    assert locked.returncode == 2 and str(warehouse) in locked.stderr
    for run in (missing, locked):
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_required_tables_are_the_ones_the_build_makes():
    # a renamed mart must fail here rather than in the lead's `make run`
    yml = (PROJECT_DIR / "python_models" / "marts" / "ml" / "_ml__python_models.yml").read_text()
    for table in REQUIRED_TABLES:
        if table.startswith("ml_"):
            assert f"- name: {table}\n" in yml


# ---------------------------------------------------------------- plain functions


def test_numbers_dates_and_missing_values_are_formatted_for_a_cell():
    assert fmt_num(1234.5, 1) == "1,234.5" and fmt_num(1234.5, 0) == "1,234"
    assert fmt_num(None) == fmt_num(pd.NA) == fmt_num(float("nan")) == "–"
    assert (fmt_num(float("inf")), fmt_num(-float("inf")), fmt_num(True)) == ("∞", "−∞", "yes")
    assert fmt_pct(0.1234) == "12.3%" and fmt_pct(0.1234, 2) == "12.34%"
    assert fmt_signed(-0.0123) == "−0.012" and fmt_signed(0.0) == "+0.000"
    assert fmt_points(0.015) == "+1.50 pt" and fmt_points(None) == "–"
    assert fmt_times(2)(1.666) == "1.67×" and fmt_times(1)(None) == "–"
    assert fmt_time(pd.Timestamp("2025-01-02")) == "2025-01-02"
    assert fmt_time(pd.Timestamp("2025-01-02 09:30:12")) == "2025-01-02 09:30"
    # a cell without a format: yes/no, whole numbers without decimals, else three
    assert [cell_text(v) for v in (np.bool_(True), 3.0, 0.5, pd.NA, "x")] == [
        "yes",
        "3",
        "0.500",
        "–",
        "x",
    ]


def test_table_formats_by_column_renames_headers_and_marks_numbers():
    frame = pd.DataFrame({"n": [1200, 3], "rate": [0.5, None], "ok": [True, False]})
    shown = frame_table(
        frame,
        formats={"rate": fmt_pct},
        headers={"n": "leads"},
        row_class=lambda row: "flag" if row["ok"] else "",
    )
    assert shown.headers == ["leads", "rate", "ok"]
    assert [[c.text for c in r.cells] for r in shown.rows] == [
        ["1,200", "50.0%", "yes"],
        ["3", "–", "no"],
    ]
    assert [c.css for c in shown.rows[0].cells] == ["num", "num", ""]  # a boolean is no number
    assert [r.css for r in shown.rows] == ["flag", ""]


def test_columns_are_picked_by_any_of_their_names():
    frame = pd.DataFrame(columns=["Scored_At", "psi"])
    assert pick(frame, "scoring_date", "scored_at") == "Scored_At"
    assert pick(frame, "ks") is None
    assert need(frame, "ml_drift", "psi") == "psi"
    with pytest.raises(ReportError, match="main.ml_drift has no column ks / ks_stat"):
        need(frame, "ml_drift", "ks", "ks_stat")


def test_long_channel_mixes_are_shortened_for_the_chart():
    assert short_mix("email + organic_search") == "email + organic_search"
    long = " + ".join(f"channel_{i}" for i in range(9))
    label = short_mix(long)
    assert label.startswith("9 channels: channel_0 + ") and label.endswith(" + …")
    assert len(label) <= 48


def test_margins_are_judged_by_the_metric_direction():
    assert is_better(0.8, 0.7, True) and is_better(0.1, 0.2, False)
    assert is_better(0.95, 1.2, None) and not is_better(0.7, 1.1, None)  # closer to 1
    assert (arrow(True), arrow(False), arrow(None)) == ("↑", "↓", "→1")
    xgb = pd.Series({"auc": 0.80})
    assert auc_verdict(xgb, pd.Series({"auc": 0.70}), "rule_points") == (
        "ranks better than rule points (+0.100 AUC)"
    )
    assert auc_verdict(xgb, pd.Series({"auc": 0.803}), "x").startswith("ranks about as well as")
    assert auc_verdict(xgb, pd.Series({"auc": float("nan")}), "x") is None
    assert auc_verdict(xgb, pd.Series({"brier": 0.1}), "x") is None


def test_band_summary_adds_rule_share_and_expected_conversions():
    hist = pd.DataFrame(
        {
            "lead_score": [40, 50, 5],
            "score_band": ["A", "A", "D"],
            "n_leads": [1, 3, 4],
            "sum_probability": [0.4, 1.5, 0.2],
        }
    )
    summary = band_summary(hist, ["A", "D"], {"A": 0.3}).set_index("score_band")
    assert summary.loc["A", "rule"] == "probability ≥ 30.00%"
    assert summary.loc["D", "rule"] == "below band C"
    assert summary.loc["A", "leads"] == 4 and summary.loc["A", "share"] == 0.5
    assert summary.loc["A", "expected"] == pytest.approx(1.9)
    assert summary.loc["A", "mean_probability"] == pytest.approx(1.9 / 4)
    assert (summary.loc["A", "min_score"], summary.loc["A", "max_score"]) == (40, 50)
    assert band_summary(hist, ["A", "D"], {})["rule"].tolist() == ["–", "–"]


def test_templates_escape_every_value():
    assert (
        note("<b>x</b> & 'y'", "warn")
        == '<p class="warn">&lt;b&gt;x&lt;/b&gt; &amp; &#39;y&#39;</p>'
    )
    macros = environment().get_template("macros.html.j2").module
    shown = frame_table(pd.DataFrame({"reason": ["<script>alert(1)</script>"]}))
    assert "<script" not in str(macros.table(shown))


def test_every_template_ships_with_the_package():
    """A non-editable install carries only what [tool.setuptools.package-data] names."""
    config = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["lead_scoring"]
    package = PROJECT_DIR / "src" / "lead_scoring"
    templates = [p for p in (package / "report" / "templates").rglob("*") if p.is_file()]
    assert templates
    for path in templates:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_unvalidated_model_is_said_prominently(tmp_path: Path):
    frames = _frames()
    registry = frames["ml_models"]
    registry["validation_method"] = ["rolling_origin_cv", "none"]
    registry["metadata_json"] = [
        "{}",
        '{"validation": {"method": "none", "reason": "fold 1: 3 converted leads to validate"}}',
    ]
    page = _report(_write(tmp_path / "wh.duckdb", frames), tmp_path / "out")
    assert "<strong>Unvalidated model.</strong>" in page
    assert "fold 1: 3 converted leads to validate" in page
    # a validated model gets no such banner
    registry["validation_method"] = ["none", "rolling_origin_cv"]
    registry["metadata_json"] = ["{}", "{}"]
    page = _report(_write(tmp_path / "wh2.duckdb", frames), tmp_path / "out2")
    assert "Unvalidated model." not in page
