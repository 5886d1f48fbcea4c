"""What can go wrong when asking for AI help, each with a message fit to show as it is."""

from __future__ import annotations

from ...errors import MiniCRMError


class AIError(MiniCRMError):
    """AI help failed; the message says why."""

    exit_code = 2


class NotUnderstood(AIError):
    """The sentence could not be turned into a rule; the message says precisely which part."""


class AIUnavailable(AIError):
    """The model could not be asked (no key, refused key, rate limit, server down, timeout,
    no connection). `fallback` says whether the offline engine may answer instead."""

    exit_code = 1

    def __init__(self, message: str, *, fallback: bool = True) -> None:
        super().__init__(message)
        self.fallback = fallback


class AIRefused(AIError):
    """The model answered, but its answer broke the contract even after one repair round."""
