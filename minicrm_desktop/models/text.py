"""Text normalization shared by storage and matching."""

from __future__ import annotations


def normalize(text: str | None) -> str | None:
    """The form strings are compared in: Unicode lower-cased, otherwise exact.

    Empty or blank text counts as absent, as the segment contract says.
    """
    if text is None or not text.strip():
        return None
    return text.lower()
