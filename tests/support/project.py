"""Where the project is: the root of the dbt project, for tests that read its files."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
