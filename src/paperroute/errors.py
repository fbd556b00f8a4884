"""One exception hierarchy for paperroute; turned into exit codes / HTTP statuses at the edge."""

from __future__ import annotations


class PaperrouteError(Exception):
    """Base of every error paperroute raises on purpose."""


class InvalidInput(PaperrouteError):
    """Input that cannot be understood: a malformed file, record, id or argument."""


class NotFound(PaperrouteError):
    """The thing asked for does not exist."""


class SourceError(PaperrouteError):
    """A source answered with an error (HTTP 4xx/5xx, an OAI-PMH error, an unreadable feed)."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.status = status
        self.url = url


class ConfigError(PaperrouteError):
    """The configuration is missing something or holds an invalid value."""


class StorageError(PaperrouteError):
    """The database cannot be opened, migrated or written."""
