"""Text normalization shared by storage and matching."""

from __future__ import annotations


def normalize(text: str | None) -> str | None:
    """The form strings are compared in: Unicode lower-cased, otherwise exact.

    Empty or blank text counts as absent, as the segment contract says.
    """
    if text is None or not text.strip():
        return None
    return text.lower()


def tags_key(labels: list[str] | tuple[str, ...]) -> str:
    """The customer's tags as stored in `customers.tags_norm`: "|newsletter|vip|", or ""."""
    names = sorted({label.lower() for label in labels})
    return f"|{'|'.join(names)}|" if names else ""
