# lead_scoring: two commands on a fresh machine (python3, make, git):
#   make run    build everything on the committed sample and say where the results are
#   make test   lint, unit tests, an end-to-end dbt build on generated data, dbt docs
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export LEAD_SCORING_DUCKDB ?= $(CURDIR)/lead_scoring.duckdb
# OpenMP threads (XGBoost's) sleep when idle instead of spinning: two trainings of the sample side
# by side, as two test workers run them, took 168 s spinning and 59 s sleeping, one alone 32.9 s
# and 34.3 s, the same boosters byte for byte (measured 2026-12-07, docs/development.md#tests)
export OMP_WAIT_POLICY ?= PASSIVE
DBT := $(BIN)/dbt
# The dashboard: Apache Superset in a venv of its own, over the published copy of the warehouse
DASH_VENV := .venv-dashboard
DASH_STAMP := $(DASH_VENV)/.installed
PUBLISH_DIR := $(or $(LEAD_SCORING_PUBLISH_DIR),published)
# The API load benchmark: locust in a venv of its own (it brings gevent), over make bench's 100k warehouse
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_SERVE_WAREHOUSE ?= bench_data/build_100000/warehouse.duckdb
BENCH_SERVE_ARGS ?= --soak-minutes 10
# Spark: dbt-spark (session method, a local SparkSession) in a venv of its own (docs/spark.md)
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed
SPARK_TEST_DIR := $(CURDIR)/spark_test
# what make spark-test builds on both engines and compares: empty = the whole project (every model,
# seed and test); a dbt selection (SPARK_SELECT='+tag:attribution') builds that part only
SPARK_SELECT ?=
SPARK_SELECTION = $(if $(strip $(SPARK_SELECT)),--select "$(SPARK_SELECT)" --indirect-selection cautious)
# the builds, one after the other on both engines (each a dbt --vars value: JSON without spaces);
# two scoring runs a horizon apart, so the backtest, experiment and channel mix have a matured run:
# SPARK_RUNS='{"experiment_rules_share":0.5,"scoring_date":"2025-05-20"} {"experiment_rules_share":0.5}'
SPARK_RUNS ?= {}
# the models trained on each engine: compared by scripts/compare_test_auc.py (the same scored leads,
# test AUCs within 0.005), not row by row; model_version hashes the time a model was trained
SPARK_MODEL_RELATIONS := ml_models ml_model_metrics ml_active_model
# the logistic-regression baseline's rows of the evaluation tables: its fit differs in the last
# digits between the two environments' NumPy builds, so its test AUC is compared (within 0.005)
# by compare_test_auc.py, and its rows are left out of the row-by-row comparison
SPARK_SKIP_ROWS := model_name=logistic_regression
# dbt on Spark, with the local submission of Python models (src/lead_scoring/spark_session.py)
SPARK_DBT := $(SPARK_VENV)/bin/python -m lead_scoring.spark_session
# columns of engine-specific hashes (DuckDB's hash() and Spark's differ): bookkeeping only
SPARK_ENGINE_COLUMNS := ledger_partition_fingerprint lead_resolution_hash lead_fingerprint_id input_fingerprint_id
# what int_lead_feature_recompute decided for an incremental run: Spark rebuilds in full every run
# (docs/spark.md), so after a second run they differ by design; the tables they decide equal
SPARK_INCREMENTAL_DECISIONS := recompute_from_at relabel_from_at recompute_reason

.PHONY: help setup run build test lint unit e2e docs demo metrics bench bench-forward bench-daily sample lock clean \
	clean-warehouse dashboard-setup dashboard dashboard-test dashboard-browser serve spark-setup spark-test

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the pinned dependencies

build: $(STAMP)  ## dbt build on the committed sample (data/sample)
	$(DBT) build --fail-fast

run: build  ## setup + build everything on the sample, publish it, write the report, say where
	$(DBT) docs generate --quiet
	$(BIN)/lead-scoring publish --duckdb "$(LEAD_SCORING_DUCKDB)"
	$(BIN)/lead-scoring report --duckdb "$(LEAD_SCORING_DUCKDB)" --out reports
	@$(BIN)/lead-scoring where --duckdb "$(LEAD_SCORING_DUCKDB)"

lint: $(STAMP)  ## sqlfluff (dbt templater, in-memory target) and ruff
	$(BIN)/ruff check src tests python_models scripts dashboard
	$(BIN)/sqlfluff lint models tests/dbt --processes 2

# the unit tests on UNIT_WORKERS pytest-xdist workers (1: one after another)
UNIT_WORKERS ?= 2

unit: $(STAMP)  ## pytest: the unit tests (tests/unit: no dbt, about a minute), on UNIT_WORKERS workers
	$(BIN)/pytest -q -n $(UNIT_WORKERS) tests/unit

# the e2e tests on E2E_WORKERS pytest-xdist workers; the tests that share a build run on one
# worker (their group: tests/e2e/conftest.py), the others go to whichever worker is free
E2E_WORKERS ?= 2

e2e: $(STAMP)  ## pytest: the end-to-end tests (tests/e2e: dbt builds of the sample and of generated data), on E2E_WORKERS workers
	$(BIN)/pytest -q -n $(E2E_WORKERS) --dist loadgroup tests/e2e

docs: $(STAMP)  ## dbt docs generate (into target/) and the 100% docs-coverage check
	$(DBT) docs generate --target lint
	$(BIN)/python scripts/check_docs_coverage.py target

# e2e runs the dashboard browser test too (tests/e2e/dashboard, on the same sample build)
test: export LEAD_SCORING_REQUIRE_DASHBOARD := 1
test: lint dashboard-setup dashboard-browser unit e2e docs  ## the full check run by CI (incl. dashboard-test)

SERVE_PORT ?= 8000

serve: $(STAMP)  ## the real-time scoring API on the built warehouse (builds the sample first if needed); prints its URL
	@test -f "$(LEAD_SCORING_DUCKDB)" || $(MAKE) --no-print-directory build
	$(BIN)/lead-scoring serve --duckdb "$(LEAD_SCORING_DUCKDB)" --port $(SERVE_PORT)

METRICS_ATTRIBUTION_MODEL ?= markov
MF := $(BIN)/mf query --quiet --decimals 3

demo: $(STAMP)  ## replay the sample as two scoring runs a horizon apart with an A/B test (50% rules arm), publish and report: every chart has data
	$(DBT) build --vars '{scoring_date: "2025-05-20", experiment_rules_share: 0.5}'
	$(DBT) build --vars '{experiment_rules_share: 0.5}'
	$(BIN)/lead-scoring publish --duckdb "$(LEAD_SCORING_DUCKDB)"
	$(BIN)/lead-scoring report --duckdb "$(LEAD_SCORING_DUCKDB)" --out reports
	@$(BIN)/lead-scoring where --duckdb "$(LEAD_SCORING_DUCKDB)"

metrics: $(STAMP)  ## semantic layer (MetricFlow) example queries on the built warehouse (METRICS_ATTRIBUTION_MODEL=markov)
	@test -f "$(LEAD_SCORING_DUCKDB)" || { echo "no warehouse at $(LEAD_SCORING_DUCKDB): run make build first"; exit 1; }
	@$(DBT) parse --quiet  # target/semantic_manifest.json for this warehouse (make docs leaves one for the lint target)
	@echo "Leads, conversion rate and open pipeline by lead source:"
	@$(MF) --metrics leads,converted_leads,conversion_rate,open_leads,expected_conversions,pipeline_value \
		--group-by lead__lead_source --order -leads
	@echo; echo "Attribution by channel, model $(METRICS_ATTRIBUTION_MODEL) (report window):"
	@$(MF) --metrics attributed_conversions,attributed_revenue,ad_spend,roas,cost_per_conversion \
		--group-by channel --where "{{ Entity('attribution_model') }} = '$(METRICS_ATTRIBUTION_MODEL)'" \
		--order -attributed_revenue
	@echo; echo "Backtest of the matured scoring runs by score band (empty until a run has matured):"
	@$(MF) --metrics backtest_leads,realized_conversions,realized_conversion_rate,predicted_conversion_rate \
		--group-by backtest__score_band --order backtest__score_band

bench: $(STAMP)  ## time every stage at 10k and 100k leads (BENCH_LEADS="10000 100000 1000000"), then bench-daily, bench-forward and bench-serve
	$(BIN)/python scripts/bench.py $(if $(BENCH_LEADS),--leads $(BENCH_LEADS),)
	$(BIN)/python scripts/bench_daily.py $(if $(BENCH_DAILY_LEADS),--leads $(BENCH_DAILY_LEADS),)
	$(BIN)/python scripts/bench_forward.py $(BENCH_FORWARD_ARGS)
	$(MAKE) --no-print-directory bench-serve

$(BENCH_STAMP): requirements-bench.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@touch $(BENCH_STAMP)

bench_data/build_100000/warehouse.duckdb: | $(STAMP)
	$(BIN)/python scripts/bench.py --leads 100000

.PHONY: bench-serve
bench-serve: $(STAMP) $(BENCH_STAMP) $(BENCH_SERVE_WAREHOUSE)  ## load-test the API on the 100k-lead bench warehouse (built if absent): p50/p95/p99 of GET and POST at 1, 10, 50 clients, then a 10-minute soak (BENCH_SERVE_ARGS)
	$(BIN)/python scripts/bench_serve.py --duckdb "$(BENCH_SERVE_WAREHOUSE)" --bench-venv $(BENCH_VENV) $(BENCH_SERVE_ARGS)

bench-forward: $(STAMP)  ## score the leads open at D, check them against the next H days, next to a plain peer model (BENCH_FORWARD_ARGS="--cap-sweep")
	$(BIN)/python scripts/bench_forward.py $(BENCH_FORWARD_ARGS)

bench-daily: $(STAMP)  ## time a daily run (export of the last day L, ml_retrain false) against the full build at L-1 on the bench funnel (BENCH_DAILY_LEADS=100000)
	$(BIN)/python scripts/bench_daily.py $(if $(BENCH_DAILY_LEADS),--leads $(BENCH_DAILY_LEADS),)

sample: $(STAMP)  ## regenerate the committed sample with its fixed seed
	rm -rf data/sample && $(BIN)/lead-scoring generate --leads 2500 --seed 42 --out data/sample

lock: $(STAMP)  ## rewrite requirements.txt from the current environment
	{ sed -n '1,2p' requirements.txt; $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock.tmp && mv requirements.lock.tmp requirements.txt

$(DASH_STAMP): requirements-dashboard.txt
	@test -x $(DASH_VENV)/bin/python || $(PYTHON) -m venv $(DASH_VENV)
	$(DASH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dashboard.txt
	@touch $(DASH_STAMP)

dashboard-setup: $(DASH_STAMP)  ## create .venv-dashboard: Apache Superset, pinned in requirements-dashboard.txt

$(PUBLISH_DIR)/_manifest.json:
	@echo "dashboard: nothing published in $(PUBLISH_DIR) yet: running make run first"
	$(MAKE) run

dashboard: $(STAMP) $(DASH_STAMP) $(PUBLISH_DIR)/_manifest.json  ## serve the dashboard (dashboard/) over the published copy on 127.0.0.1; prints URL and login
	$(BIN)/python -m lead_scoring.dashboard serve --published "$(PUBLISH_DIR)" --venv $(DASH_VENV) --home .superset

dashboard-browser:  # Debian's chromium + chromium-driver for the browser test (apt-get as root)
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "dashboard-browser: installing Debian's chromium and chromium-driver"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "dashboard-test needs Debian's packages chromium and chromium-driver: apt-get install chromium chromium-driver (as root)" >&2; \
	    exit 1; \
	  fi; \
	fi

dashboard-test: export LEAD_SCORING_REQUIRE_DASHBOARD := 1
dashboard-test: $(STAMP) dashboard-setup dashboard-browser  ## open the dashboard in headless Chromium, check every chart has data and no error; screenshots in reports/dashboard/
	$(BIN)/pytest -q -m dashboard tests/e2e/dashboard

clean:  ## remove build outputs (keeps .venv and the warehouse, which holds state no rebuild brings back)
	rm -rf target logs published reports
	@test ! -e "$(LEAD_SCORING_DUCKDB)" || echo "kept $(LEAD_SCORING_DUCKDB): it holds the model registry, the score history and the CRM outbox; 'make clean-warehouse' backs them up to state_backups/ and deletes it"

clean-warehouse: $(STAMP)  ## back the state up to state_backups/ (lead-scoring backup-state), then delete the warehouse
	@if [ -e "$(LEAD_SCORING_DUCKDB)" ]; then $(BIN)/lead-scoring backup-state --duckdb "$(LEAD_SCORING_DUCKDB)" --out state_backups && rm -f "$(LEAD_SCORING_DUCKDB)" "$(LEAD_SCORING_DUCKDB).wal"; fi

$(SPARK_STAMP): requirements-spark.txt pyproject.toml
	@command -v java >/dev/null || { echo "spark-setup: Java is missing; install it with: sudo apt-get install -y openjdk-17-jre-headless"; exit 1; }
	@test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.txt
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(SPARK_STAMP)

spark-setup: $(SPARK_STAMP)  ## create .venv-spark: dbt-spark and PySpark, pinned in requirements-spark.txt (needs Java 17)

spark-test: $(STAMP) $(SPARK_STAMP)  ## build the sample (or SPARK_SELECT) on local Spark and on DuckDB, and compare every table
	rm -rf "$(SPARK_TEST_DIR)" && mkdir -p "$(SPARK_TEST_DIR)/spark"
	@for run_vars in $(foreach run,$(SPARK_RUNS),'$(run)'); do \
		echo "== DuckDB build and Spark build (local SparkSession) of $(or $(strip $(SPARK_SELECT)),the whole project), --vars '$$run_vars', side by side"; \
		LEAD_SCORING_DUCKDB="$(SPARK_TEST_DIR)/duckdb.duckdb" DBT_TARGET_PATH="$(SPARK_TEST_DIR)/target-duckdb" \
			DBT_LOG_PATH="$(SPARK_TEST_DIR)/logs-duckdb" $(DBT) build $(SPARK_SELECTION) --vars "$$run_vars" \
			--quiet > "$(SPARK_TEST_DIR)/duckdb_build.log" 2>&1 & duckdb_build=$$!; \
		LEAD_SCORING_SPARK_DIR="$(SPARK_TEST_DIR)/spark" DBT_TARGET_PATH="$(SPARK_TEST_DIR)/target-spark" \
			DBT_LOG_PATH="$(SPARK_TEST_DIR)/logs-spark" $(SPARK_DBT) build --target spark \
			$(SPARK_SELECTION) --vars "$$run_vars" --quiet; spark_status=$$?; \
		wait $$duckdb_build; duckdb_status=$$?; cat "$(SPARK_TEST_DIR)/duckdb_build.log"; \
		echo "DuckDB build: exit $$duckdb_status; Spark build: exit $$spark_status"; \
		test $$duckdb_status -eq 0 && test $$spark_status -eq 0 || exit 1; \
	done
	@echo "== Spark tables compared with DuckDB's"
	relations=$$(DBT_TARGET_PATH="$(SPARK_TEST_DIR)/target-duckdb" DBT_LOG_PATH="$(SPARK_TEST_DIR)/logs-duckdb" \
		$(DBT) ls --quiet $(SPARK_SELECTION) --exclude config.materialized:ephemeral \
		--resource-type model seed --output name) && \
	$(SPARK_VENV)/bin/python scripts/spark_export.py --spark-dir "$(SPARK_TEST_DIR)/spark" \
		--reference "$(SPARK_TEST_DIR)/duckdb.duckdb" --out "$(SPARK_TEST_DIR)/spark_export.duckdb" \
		$(addprefix --engine-column ,$(SPARK_ENGINE_COLUMNS)) $$relations && \
	$(BIN)/python scripts/compare_warehouses.py "$(SPARK_TEST_DIR)/duckdb.duckdb" "$(SPARK_TEST_DIR)/spark_export.duckdb" \
		--names $$(printf '%s\n' $$relations | grep -vxF $(addprefix -e ,$(SPARK_MODEL_RELATIONS))) \
		--ignore-columns $(SPARK_ENGINE_COLUMNS) $(SPARK_INCREMENTAL_DECISIONS) model_version --skip-rows $(SPARK_SKIP_ROWS) --tolerance 1e-6 && \
	$(BIN)/python scripts/compare_test_auc.py "$(SPARK_TEST_DIR)/duckdb.duckdb" "$(SPARK_TEST_DIR)/spark_export.duckdb" \
		--max-difference 0.005
