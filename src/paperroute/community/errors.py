"""The community's errors, in paperroute's one hierarchy; the web edge maps each to a status."""

from __future__ import annotations

from ..errors import InvalidInput, PaperrouteError


class Forbidden(PaperrouteError):
    """The reader may not do this (signed out, banned, not an admin, not the owner)."""


class NotSignedIn(Forbidden):
    """The action needs a signed-in reader (HTTP 401)."""


class RateLimited(PaperrouteError):
    """Too many requests of one kind in the current window (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(PaperrouteError):
    """The request clashes with what is stored (a duplicate name; HTTP 409)."""


class TooLarge(InvalidInput):
    """A body or field over its size limit (HTTP 413)."""


class BadLink(InvalidInput):
    """A sign-in link that is forged, used or expired (HTTP 400)."""


class Unavailable(PaperrouteError):
    """An outside service the action needs (arXiv, the mail server) cannot be reached (503)."""
