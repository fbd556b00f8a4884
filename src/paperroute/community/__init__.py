"""The community: readers signed in by emailed links, votes, comments, collections,
submissions and moderation. :class:`Community` holds the use cases."""

from .errors import BadLink, Conflict, Forbidden, NotSignedIn, RateLimited, TooLarge, Unavailable
from .model import (
    ApiToken,
    AuditEntry,
    Collection,
    Comment,
    OutboxMessage,
    Submission,
    User,
    VoteState,
)
from .service import DEMO_ADMIN, Community

__all__ = [
    "DEMO_ADMIN",
    "ApiToken",
    "AuditEntry",
    "BadLink",
    "Collection",
    "Comment",
    "Community",
    "Conflict",
    "Forbidden",
    "NotSignedIn",
    "OutboxMessage",
    "RateLimited",
    "Submission",
    "TooLarge",
    "Unavailable",
    "User",
    "VoteState",
]
