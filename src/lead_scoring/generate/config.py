"""What to generate: :class:`GeneratorConfig`, validated on creation, and the history length."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

HISTORY_DAYS = 540  # days of activity, ending on GeneratorConfig.end_date


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. The files are a pure function of the whole config (chunk_size included:
    chunk ``k`` has its own random stream, so another chunk size gives other, equally valid data).

    n_leads: number of distinct leads (>= 1).
    seed: random seed (>= 0).
    end_date: last day of activity (UTC, ``YYYY-MM-DD``); leads are created over the
        ``HISTORY_DAYS`` (540) days that end on it.
    chunk_size: leads simulated and written at a time; bounds memory (peak ~4.5 GB RSS at
        50,000: the oldest leads have the longest history, ~135 touchpoints each).
    """

    n_leads: int
    seed: int = 42
    end_date: str = "2025-06-30"
    chunk_size: int = 50_000

    def __post_init__(self) -> None:
        for name in ("n_leads", "seed", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"GeneratorConfig.{name} must be an integer, got {value!r}")
        if self.n_leads < 1:
            raise ValueError(f"GeneratorConfig.n_leads must be >= 1, got {self.n_leads}")
        if self.n_leads > 50_000_000:
            raise ValueError(f"GeneratorConfig.n_leads must be <= 50,000,000, got {self.n_leads}")
        if self.seed < 0:
            raise ValueError(f"GeneratorConfig.seed must be >= 0, got {self.seed}")
        if self.chunk_size < 1:
            raise ValueError(f"GeneratorConfig.chunk_size must be >= 1, got {self.chunk_size}")
        if self.chunk_size > 1_000_000:
            raise ValueError(
                f"GeneratorConfig.chunk_size must be <= 1,000,000 (memory), got {self.chunk_size}"
            )
        try:
            end = dt.date.fromisoformat(str(self.end_date))
        except ValueError:
            raise ValueError(
                f"GeneratorConfig.end_date must be a date like 2025-06-30, got {self.end_date!r}"
            ) from None
        if not dt.date(2000, 1, 1) <= end <= dt.date(2090, 12, 31):
            raise ValueError(
                f"GeneratorConfig.end_date must be between 2000-01-01 and 2090-12-31, got {end}"
            )

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.n_leads / self.chunk_size)
