"""The semantic layer (models/marts/semantic/): MetricFlow's `mf` validates the semantic models
and metrics against a built warehouse and answers every query with the numbers SQL computes
directly on the marts: leads and conversion rate by lead source, the open pipeline, attributed
conversions, revenue, spend and ROAS per attribution model and channel, and the realized
conversion rate by score band of the backtest.

Reads a copy of the two-run sample history (session fixture sample_history: every mart is
built and ml_backtest has a matured run); builds nothing. `mf` needs the dbt project with the
build's target/semantic_manifest.json, so it runs in a view of the project (symlinks) whose
target/ holds the manifest of that build. One `mf` call takes about 2-3 s: the queries are
batched, several metrics per call."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dbt_runner import DbtRun, copy_build
from project import PROJECT_DIR

MF = str(Path(sys.executable).parent / "mf")
NULL_KEY = "<null>"
pytestmark = pytest.mark.e2e


@dataclass
class MetricFlow:
    project_dir: Path
    warehouse: DbtRun

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_PROJECT_DIR": str(self.project_dir),
            "DBT_LOG_PATH": str(self.project_dir / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "LEAD_SCORING_DUCKDB": str(self.warehouse.duckdb_path),
        }
        return subprocess.run(
            [MF, *args],
            cwd=self.project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def query(self, metrics: list[str], group_by: list[str] = (), where: str = "") -> pd.DataFrame:
        out = self.project_dir / f"query_{len(list(self.project_dir.glob('query_*.csv')))}.csv"
        args = ["query", "--quiet", "--metrics", ",".join(metrics), "--csv", str(out)]
        if group_by:
            args += ["--group-by", ",".join(group_by)]
        if where:
            args += ["--where", where]
        done = self.run(*args)
        assert done.returncode == 0 and out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
        return pd.read_csv(out)


@pytest.fixture(scope="module")
def mf(sample_history: dict, tmp_path_factory: pytest.TempPathFactory) -> MetricFlow:
    final: DbtRun = sample_history["final"]
    work = Path(tmp_path_factory.mktemp("semantic_layer"))
    warehouse = copy_build(final, work)  # same file name: the manifest's database matches
    project = work / "project"
    project.mkdir()
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in {"target", "logs", ".git"}:
            (project / entry.name).symlink_to(entry)
    (project / "target").mkdir()
    manifest = final.duckdb_path.parent / "target" / "semantic_manifest.json"
    (project / "target" / "semantic_manifest.json").write_bytes(manifest.read_bytes())
    return MetricFlow(project, warehouse)


def assert_same(mf_result: pd.DataFrame, sql_result: pd.DataFrame, keys: list[str]) -> None:
    """The same groups and, per group, the same value of every metric column (null = null)."""
    assert len(mf_result) > 0
    assert sorted(mf_result.columns) == sorted(sql_result.columns)

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        for key in keys:
            frame[key] = frame[key].astype("object").where(frame[key].notna(), NULL_KEY)
            frame[key] = frame[key].astype(str)
        return frame.set_index(keys).sort_index()

    ours, theirs = keyed(mf_result), keyed(sql_result)
    assert list(ours.index) == list(theirs.index)
    for column in ours.columns:
        left = ours[column].astype(float).to_numpy()
        right = theirs[column].astype(float).to_numpy()
        assert np.array_equal(np.isnan(left), np.isnan(right)), (column, left, right)
        mask = ~np.isnan(left)
        assert np.allclose(left[mask], right[mask], rtol=1e-9, atol=1e-9), (column, left, right)


def test_mf_validate_configs_passes_against_the_warehouse(mf: MetricFlow) -> None:
    done = mf.run("validate-configs", "--show-all")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    # semantic validations and the data-warehouse ones (every semantic model, dimension,
    # entity, measure and metric queried on the build)
    verdicts = [line for line in output.replace("\r", "\n").splitlines() if "ERRORS:" in line]
    assert len(verdicts) == 6, output[-3000:]
    assert all("(ERRORS: 0, FUTURE_ERRORS: 0, WARNINGS: 0)" in line for line in verdicts), verdicts


def test_lead_metrics_and_pipeline_by_lead_source_match_sql(mf: MetricFlow) -> None:
    metrics = [
        "leads",
        "converted_leads",
        "conversion_rate",
        "average_deal_size",
        "open_leads",
        "expected_conversions",
        "pipeline_value",
    ]
    result = mf.query(metrics, ["lead__lead_source"])
    expected = mf.warehouse.query(
        """
        with by_source as (
            select
                lead_source,
                count(*) as leads,
                count(*) filter (where status = 'converted') as converted_leads,
                avg(case when status = 'converted' then 1.0 else 0.0 end) as conversion_rate,
                avg(conversion_amount) as average_deal_size
            from dim_leads
            group by lead_source
        ),
        open_by_source as (
            select
                dim_leads.lead_source,
                count(*) as open_leads,
                sum(scored_leads.conversion_probability) as expected_conversions
            from scored_leads
            inner join dim_leads on scored_leads.lead_id = dim_leads.lead_id
            group by dim_leads.lead_source
        )
        select
            by_source.lead_source as lead__lead_source,
            by_source.* exclude (lead_source),
            open_by_source.open_leads,
            open_by_source.expected_conversions,
            open_by_source.expected_conversions * by_source.average_deal_size as pipeline_value
        from by_source
        left join open_by_source
            on by_source.lead_source is not distinct from open_by_source.lead_source
        """
    )
    assert_same(result, expected, ["lead__lead_source"])
    assert expected.leads.sum() == 2500 and expected.expected_conversions.sum() > 1


def test_totals_without_a_group_by_match_sql(mf: MetricFlow) -> None:
    metrics = [
        "leads",
        "conversion_rate",
        "expected_conversions",
        "pipeline_value",
        "ad_spend",
        "backtest_leads",
        "realized_conversions",
    ]
    result = mf.query(metrics)
    expected = mf.warehouse.query(
        """
        select
            (select count(*) from dim_leads) as leads,
            (select avg(case when is_converted then 1.0 else 0.0 end) from dim_leads)
                as conversion_rate,
            (select sum(conversion_probability) from scored_leads) as expected_conversions,
            (select sum(conversion_probability) from scored_leads)
            * (select avg(conversion_amount) from dim_leads) as pipeline_value,
            -- spend is repeated on every model's row: one model's rows hold it once
            (select sum(spend) from fct_channel_attribution where attribution_model = 'markov')
                as ad_spend,
            -- the run totals: the bands add up to them
            (select sum(n_leads) from ml_backtest where score_band = 'all') as backtest_leads,
            (select sum(n_converted) from ml_backtest where score_band = 'all')
                as realized_conversions
        """
    )
    result["total"] = expected["total"] = "all"
    assert_same(result, expected, ["total"])


def test_conversion_rate_by_month_matches_sql(mf: MetricFlow) -> None:
    result = mf.query(["leads", "conversion_rate"], ["metric_time__month"])
    expected = mf.warehouse.query(
        """
        select
            cast(date_trunc('month', created_date) as date) as metric_time__month,
            count(*) as leads,
            avg(case when is_converted then 1.0 else 0.0 end) as conversion_rate
        from dim_leads
        group by 1
        """
    )
    for frame in (result, expected):
        frame["metric_time__month"] = pd.to_datetime(frame.metric_time__month).dt.strftime("%Y-%m")
    assert_same(result, expected, ["metric_time__month"])
    assert len(expected) >= 12


def test_attribution_by_model_and_channel_matches_the_mart(mf: MetricFlow) -> None:
    metrics = [
        "attributed_conversions",
        "attributed_revenue",
        "ad_spend",
        "roas",
        "cost_per_conversion",
    ]
    result = mf.query(metrics, ["attribution_model", "channel"])
    expected = mf.warehouse.query(
        """
        select
            attribution_model,
            channel,
            attributed_conversions,
            attributed_revenue,
            spend as ad_spend,
            roas,
            cost_per_conversion
        from fct_channel_attribution
        """
    )
    assert_same(result, expected, ["attribution_model", "channel"])
    assert expected.roas.notna().sum() >= 7  # channels with spend, in every model


def test_markov_attribution_by_channel_and_spend_across_models_match_sql(mf: MetricFlow) -> None:
    markov = mf.query(
        ["attributed_revenue", "roas"],
        ["channel"],
        where="{{ Entity('attribution_model') }} = 'markov'",
    )
    expected = mf.warehouse.query(
        """
        select channel, attributed_revenue, roas
        from fct_channel_attribution
        where attribution_model = 'markov'
        """
    )
    assert_same(markov, expected, ["channel"])
    # without an attribution model: ad_spend is still the channel's spend (not 7 times it),
    # and roas is the mean of the seven models' ROAS (every model has a row per spend channel)
    across = mf.query(["ad_spend", "roas"], ["channel"])
    expected = mf.warehouse.query(
        """
        select channel, max(spend) as ad_spend, avg(roas) as roas
        from fct_channel_attribution
        group by channel
        """
    )
    assert_same(across, expected, ["channel"])


def test_realized_conversion_rate_by_band_matches_the_backtest(mf: MetricFlow) -> None:
    metrics = [
        "backtest_leads",
        "realized_conversions",
        "realized_conversion_rate",
        "predicted_conversion_rate",
    ]
    result = mf.query(metrics, ["backtest__score_band"])
    expected = mf.warehouse.query(
        """
        select
            score_band as backtest__score_band,
            sum(n_leads) as backtest_leads,
            sum(n_converted) as realized_conversions,
            sum(n_converted) / sum(n_leads) as realized_conversion_rate,
            sum(n_leads * mean_probability) / sum(n_leads) as predicted_conversion_rate
        from ml_backtest
        where score_band <> 'all'
        group by score_band
        """
    )
    assert_same(result, expected, ["backtest__score_band"])
    # one matured run: each band's rate is that run's conversion_rate of the band
    rates = mf.warehouse.query("select score_band, conversion_rate from ml_backtest")
    rates = rates.set_index("score_band").conversion_rate
    mf_rates = result.set_index("backtest__score_band").realized_conversion_rate
    assert set(mf_rates.index) == set(rates.index) - {"all"}
    assert np.allclose(mf_rates.to_numpy(), rates[mf_rates.index].to_numpy())
    assert result.realized_conversions.sum() > 0
