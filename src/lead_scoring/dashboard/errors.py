"""The one error of the dashboard package: what cannot be built or served, and what to fix."""

from __future__ import annotations


class DashboardError(Exception):
    """The dashboard cannot be built or served; the message says what to fix."""
