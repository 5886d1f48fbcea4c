"""The segment engine: rule trees compiled to one SQL query, run on either engine."""

from .compiler import compile_rule
from .maintenance import optimize_database
from .queries import (
    AudienceMember,
    audience_count_statement,
    audience_page,
    audience_sample,
    audience_where,
    count_audience,
    count_statement,
    iter_audience_emails,
    iter_audience_ids,
)
from .saved import SavedSegment, SegmentError, SegmentNameTaken, create_segment, list_segments

__all__ = [
    "AudienceMember",
    "SavedSegment",
    "SegmentError",
    "SegmentNameTaken",
    "audience_count_statement",
    "audience_page",
    "audience_sample",
    "audience_where",
    "compile_rule",
    "count_audience",
    "count_statement",
    "create_segment",
    "iter_audience_emails",
    "iter_audience_ids",
    "list_segments",
    "optimize_database",
]
