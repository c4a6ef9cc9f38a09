"""The whole page: every section rendered into ``base.html.j2``, written atomically."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from lead_scoring.report.load import Warehouse, load_warehouse
from lead_scoring.report.rendering import not_available, render
from lead_scoring.report.sections import SECTIONS, Renderer
from lead_scoring.report.sections.common import active_model


@dataclass
class Section:
    anchor: str
    title: str
    body: Markup


def render_section(
    render_body: Renderer, title: str, optional: bool, wh: Warehouse, model: pd.Series
) -> Markup:
    """One section's body; an optional one that fails says so (and warns on stderr)."""
    if not optional:
        return render_body(wh, model)
    try:
        return render_body(wh, model)
    except Exception as exc:  # noqa: BLE001 - optional sections fail soft, by design
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"lead-scoring report: warning: section '{title}' skipped: {first}", file=sys.stderr)
        return not_available(
            f"the section could not be drawn from this table ({type(exc).__name__}: {first})."
        )


def render_html(wh: Warehouse, generated_at: datetime | None = None) -> str:
    """The whole page as a string (pure: no file is written)."""
    model = active_model(wh)
    generated_at = generated_at or datetime.now(UTC)
    sections = [
        Section(anchor, title, render_section(body, title, optional, wh, model))
        for anchor, title, body, optional in SECTIONS
    ]
    page = render(
        "base.html.j2",
        version=str(model["model_version"]),
        fallback=model["model_name"] == "rule_points",
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        source=wh.path.name,
        sections=sections,
    )
    return str(page) + "\n"


def write_report(page: str, out_dir: Path) -> Path:
    """Write ``<out_dir>/index.html`` via a temporary file and a rename (never half a page)."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    temporary = out_dir / f".index.html.{os.getpid()}.tmp"
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def build_report(duckdb_path: Path, out_dir: Path, generated_at: datetime | None = None) -> Path:
    """Load the warehouse, render the model card and write it; returns the index.html path."""
    return write_report(render_html(load_warehouse(Path(duckdb_path)), generated_at), out_dir)
