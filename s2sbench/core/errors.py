"""Errors meant for people: each says what is wrong, where, and what to do.

The CLI prints ``str(error)`` as one line and exits with ``exit_code``; nothing
else in the library prints tracebacks for these.
"""

from __future__ import annotations


class S2SBenchError(Exception):
    """Base class of every error the CLI reports as one clear line."""

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None):
        self.what = what
        self.where = where
        self.hint = hint
        parts = [f"{where}: {what}" if where else what]
        if hint:
            parts.append(hint)
        super().__init__(" -- ".join(parts))


class DataError(S2SBenchError):
    """A dataset file or record is malformed."""

    @staticmethod
    def at(path: object, line: int | None, what: str, hint: str | None = None) -> DataError:
        where = f"{path}:{line}" if line is not None else str(path)
        return DataError(what, where=where, hint=hint)


class ConfigError(S2SBenchError):
    """A command-line argument, task spec or model argument is invalid."""


class ModelError(S2SBenchError):
    """A model cannot be loaded or cannot score what was asked."""


class StoreError(S2SBenchError):
    """The score store or output directory cannot be used safely."""
