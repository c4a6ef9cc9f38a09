"""The report end to end: `lead-scoring report` on the sample build (session fixture
sample_build) has every section, the model's numbers, no personal data, and takes under a
minute. The fast tests of the report are tests/unit/test_report.py."""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb
import pytest
from dbt_runner import DbtRun
from project import PROJECT_DIR
from report_page import SECTION_TITLES, page_cell, page_images

from lead_scoring.cli import main


@pytest.fixture(scope="module")
def built(sample_build: DbtRun) -> DbtRun:
    return sample_build


@pytest.mark.e2e
def test_report_on_the_sample_build(built: DbtRun, tmp_path: Path, capsys):
    started = time.perf_counter()
    assert main(["report", "--duckdb", str(built.duckdb_path), "--out", str(tmp_path)]) == 0
    seconds = time.perf_counter() - started
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    registry = built.query("select model_version, model_name from ml_active_model")
    version = registry.model_version.iloc[0]
    assert version in page
    for title in SECTION_TITLES:
        assert f"<h2>{title}</h2>" in page
    assert len(page_images(page)) >= 5
    if registry.model_name.iloc[0] == "xgboost":
        auc = built.query(
            "select model_name, value from ml_model_metrics "
            f"where split = 'test' and metric = 'auc' and model_version = '{version}'"
        ).set_index("model_name")["value"]
        for model in ("xgboost", "logistic_regression", "rule_points"):
            assert page_cell(page, f'data-model="{model}" data-metric="auc"') == f"{auc[model]:.3f}"
    # no PII: no email address, no company name of the raw leads
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", page)
    companies = (
        duckdb.sql(
            f"select distinct company_name from '{PROJECT_DIR / 'data/sample/leads.parquet'}' "
            "where company_name is not null"
        )
        .df()
        .company_name
    )
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not [name for name in companies if name in text]
    assert seconds < 60, f"the report took {seconds:.1f} s"
