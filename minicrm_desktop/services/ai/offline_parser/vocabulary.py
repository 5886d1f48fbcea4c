"""The words the offline parser knows from the database: city and tag names."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    """City and tag names as stored (shown as written); matched case-insensitively."""

    cities: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @staticmethod
    def of(cities: list[str] | tuple[str, ...], tags: list[str] | tuple[str, ...]) -> Vocabulary:
        def clean(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
            seen: dict[str, str] = {}
            for name in names:
                text = (name or "").strip()
                if text and text.lower() not in seen:
                    seen[text.lower()] = text
            return tuple(seen.values())

        return Vocabulary(clean(cities), clean(tags))

    def pattern(self, names: tuple[str, ...]) -> re.Pattern[str] | None:
        """One alternation of the names, longest first, whole words only."""
        if not names:
            return None
        ordered = sorted({n.lower() for n in names}, key=len, reverse=True)
        alternation = "|".join(re.escape(n) for n in ordered)
        return re.compile(rf"\s*(?:the\s+)?({alternation})(?![\w-])")

    def canonical(self, names: tuple[str, ...], lowered: str) -> str:
        return next(n for n in names if n.lower() == lowered)
