"""Keeping known secrets out of text meant for people: error messages, dialogs, log files.

Code that holds a secret (the MySQL password, whatever its source) registers it here; every
path that shows or records a message runs it through `scrub()`: the command line's error
line, the error dialog, and (through `ScrubbingFilter`) every log handler. It is the second
line of defence: messages are built without secrets in the first place.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType
from urllib.parse import quote, quote_plus

MASK = "***"
#: Shorter values would blank out ordinary words; no real password is this short.
_MIN_LENGTH = 4

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember `value` (and its URL-encoded spellings) as never to be shown."""
    if not value or len(value) < _MIN_LENGTH:
        return
    forms = {value, quote(value, safe=""), quote_plus(value), quote(value)}
    with _lock:
        _secrets.update(form for form in forms if len(form) >= _MIN_LENGTH)


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by ***."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class ScrubbingFilter(logging.Filter):
    """A handler filter that scrubs a record's message and traceback before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it as usual
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
            record.exc_info = None  # the formatter would print the raw traceback again
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def scrub_log_handlers(logger: logging.Logger | None = None) -> None:
    """Put a ScrubbingFilter on each handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, ScrubbingFilter) for f in handler.filters):
            handler.addFilter(ScrubbingFilter())


def scrubbing_excepthook(exc_type: type[BaseException], exc: BaseException,
                         tb: TracebackType | None) -> None:
    """sys.excepthook for the command line: the usual traceback, scrubbed."""
    sys.stderr.write(scrub("".join(traceback.format_exception(exc_type, exc, tb))))
