"""The sections of the model card, in page order: :data:`SECTIONS`.

A section is a function ``(warehouse, active model row) -> Markup``. The optional ones fail
soft: an exception while drawing one becomes a "not available" note (see ``page``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
from markupsafe import Markup

from lead_scoring.report.load import Warehouse
from lead_scoring.report.sections.business import (
    section_attribution,
    section_channel_mix,
    section_crm_delivery,
    section_experiment,
)
from lead_scoring.report.sections.model import (
    section_gains,
    section_header,
    section_headline,
    section_importance,
    section_reliability,
    section_scores,
    section_segments,
    section_top_leads,
)
from lead_scoring.report.sections.monitoring import (
    section_backtest,
    section_drift,
    section_health,
)

Renderer = Callable[[Warehouse, pd.Series], Markup]

SECTIONS: Sequence[tuple[str, str, Renderer, bool]] = (
    # anchor, title, renderer, optional (fails soft)
    ("model", "Model", section_header, False),
    ("headline", "Headline numbers", section_headline, False),
    ("reliability", "Reliability curve", section_reliability, False),
    ("gains", "Gains and lift", section_gains, False),
    ("scores", "Score distribution by band", section_scores, False),
    ("top_leads", "Top open leads", section_top_leads, True),
    ("importance", "Feature importance", section_importance, False),
    ("segments", "Segments", section_segments, False),
    ("attribution", "Attribution by model", section_attribution, False),
    ("channel_mix", "Which journeys make good leads", section_channel_mix, True),
    ("drift", "Drift", section_drift, True),
    ("backtest", "Backtest", section_backtest, True),
    ("experiment", "A/B test: model vs rules", section_experiment, True),
    ("health", "Model health", section_health, True),
    ("crm", "CRM delivery", section_crm_delivery, True),
)

__all__ = ["SECTIONS", "Renderer"]
