"""Errors shared by the features, in paperroute's one hierarchy (the web edge maps each to
a status)."""

from __future__ import annotations

from ..errors import InvalidInput, PaperrouteError


class RateLimited(PaperrouteError):
    """Too many requests of one kind in the current window (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadLink(InvalidInput):
    """A mailed link (sign-in, digest confirm / manage / unsubscribe) that is forged,
    malformed, used, expired or no longer valid (HTTP 400)."""
