"""The community's errors, in paperroute's one hierarchy; the web edge maps each to a status.
``BadLink`` and ``RateLimited`` are shared with the digests (site/errors.py)."""

from __future__ import annotations

from ..errors import InvalidInput, PaperrouteError
from ..site.errors import BadLink, RateLimited

__all__ = [
    "BadLink",
    "Conflict",
    "Forbidden",
    "NotSignedIn",
    "RateLimited",
    "TooLarge",
    "Unavailable",
]


class Forbidden(PaperrouteError):
    """The reader may not do this (signed out, banned, not an admin, not the owner)."""


class NotSignedIn(Forbidden):
    """The action needs a signed-in reader (HTTP 401)."""


class Conflict(PaperrouteError):
    """The request clashes with what is stored (a duplicate name; HTTP 409)."""


class TooLarge(InvalidInput):
    """A body or field over its size limit (HTTP 413)."""


class Unavailable(PaperrouteError):
    """An outside service the action needs (arXiv, the mail server) cannot be reached (503)."""
