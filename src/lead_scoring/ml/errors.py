"""Exceptions of the ML pipeline."""

from __future__ import annotations

__all__ = ["InsufficientHistoryError", "LeakageError"]


class LeakageError(ValueError):
    """A feature looks like (a copy of) the label; ``features`` names the offending columns."""

    def __init__(self, message: str, features: list[str]):
        super().__init__(message)
        self.features = list(features)


class InsufficientHistoryError(ValueError):
    """Too little labeled history to train and evaluate a model.

    The documented fallback is :func:`lead_scoring.ml.scoring.rule_based_scores`.
    """
