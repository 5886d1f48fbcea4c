"""Message templates: personalisation tokens with fallbacks, checked before anything is sent.

`Hi {first_name|there}, your {city} store misses you` — a token is a field name, optionally
followed by `|fallback` used when the customer has no value. `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...errors import MiniCRMError
from ...models.money import format_money

TOKEN = re.compile(r"\{\{|\}\}|\{([^{}|]*)(?:\|([^{}]*))?\}|[{}]")
MAX_TEMPLATE_LENGTH = 5000


class TemplateError(MiniCRMError):
    exit_code = 2


def _first_name(c: Mapping[str, Any]) -> str | None:
    name = (c.get("name") or "").strip()
    return name.split()[0] if name else None


def _money(c: Mapping[str, Any]) -> str | None:
    minor = c.get("total_spend_minor")
    return None if minor is None else format_money(int(minor))


def _date(c: Mapping[str, Any]) -> str | None:
    value: datetime | None = c.get("last_order_at")
    return None if value is None else value.strftime("%d %b %Y")


# Each token reads a plain dict of the customer's fields (see launch.RECIPIENT_FIELDS).
TOKENS: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "first_name": _first_name,
    "name": lambda c: (c.get("name") or "").strip() or None,
    "email": lambda c: c.get("email"),
    "city": lambda c: (c.get("city") or "").strip() or None,
    "total_spend": _money,
    "last_order_date": _date,
    # Filled per recipient when the message is sent (see email.unsubscribe_url).
    "unsubscribe_url": lambda c: c.get("unsubscribe_url"),
}


@dataclass(frozen=True)
class Template:
    text: str
    parts: tuple[tuple[str, str | None, str], ...]  # (literal, token or None, fallback)

    def render(self, customer: Mapping[str, Any]) -> str:
        out: list[str] = []
        for literal, token, fallback in self.parts:
            out.append(literal)
            if token is not None:
                value = TOKENS[token](customer)
                out.append(value if value else fallback)
        return "".join(out)

    @property
    def tokens(self) -> set[str]:
        return {token for _, token, _ in self.parts if token is not None}


def parse_template(text: str) -> Template:
    """Parse and check a template; an unknown token or stray brace is a TemplateError."""
    if not text.strip():
        raise TemplateError("the message is empty")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"the message is longer than {MAX_TEMPLATE_LENGTH} characters")
    parts: list[tuple[str, str | None, str]] = []
    literal: list[str] = []
    position = 0
    for match in TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        piece = match.group(0)
        if piece in ("{{", "}}"):
            literal.append(piece[0])
            continue
        if piece in ("{", "}"):
            raise TemplateError(
                f"unmatched {piece!r} at character {match.start() + 1}: write {piece * 2} "
                "for a literal brace"
            )
        name = match.group(1).strip()
        if name not in TOKENS:
            known = ", ".join("{" + t + "}" for t in TOKENS)
            raise TemplateError(f"unknown token {{{name}}}; known tokens: {known}")
        parts.append(("".join(literal), name, (match.group(2) or "").strip()))
        literal = []
    literal.append(text[position:])
    parts.append(("".join(literal), None, ""))
    return Template(text, tuple(parts))
