"""Planner statistics: segment counts rely on the planner choosing the narrowest index."""

from __future__ import annotations

from minicrm_desktop.services.bulkload.indexes import refresh_statistics as optimize_database

__all__ = ["optimize_database"]
