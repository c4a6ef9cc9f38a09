"""Settings for every test process, read before any test module imports XGBoost."""

from __future__ import annotations

import os

# OpenMP threads sleep when idle instead of spinning (as the Makefile sets for every target): the
# test workers train side by side, and two spinning trainings on two cores took 2.8 times as long
# (docs/development.md#tests). dbt runs started by the tests inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
