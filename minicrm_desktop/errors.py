"""Expected errors: things that go wrong in the user's environment or input, not bugs.

They carry a message fit to show a user as it is; anything else reaching the top is a bug
and is reported as a crash.
"""

from __future__ import annotations


class MiniCRMError(Exception):
    """An expected failure with a clear, user-facing message."""

    #: The command line's exit status for this kind of failure.
    exit_code = 1


class DatabaseUnavailable(MiniCRMError):
    """The database cannot be opened or reached."""


class ConfigError(MiniCRMError):
    """A setting or command-line value is wrong."""

    exit_code = 2


class ImportFileError(MiniCRMError):
    """A CSV file cannot be imported at all (as opposed to a bad row)."""

    exit_code = 2
