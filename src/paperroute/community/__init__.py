"""The community: readers signed in by emailed links, votes, comments, collections,
submissions and moderation. :class:`Community` holds the use cases (``hub.community``); the
underscored modules are its internals."""

from ..site.outbox import OutboxMessage
from ._accounts import API_TOKEN_PREFIX
from ._comments import MAX_COMMENT
from .errors import BadLink, Conflict, Forbidden, NotSignedIn, RateLimited, TooLarge, Unavailable
from .model import (
    ApiToken,
    AuditEntry,
    Collection,
    Comment,
    Submission,
    User,
    VoteState,
)
from .service import DEMO_ADMIN, Community, PaperPanel

__all__ = [
    "API_TOKEN_PREFIX",
    "DEMO_ADMIN",
    "MAX_COMMENT",
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
    "PaperPanel",
    "RateLimited",
    "Submission",
    "TooLarge",
    "Unavailable",
    "User",
    "VoteState",
]
