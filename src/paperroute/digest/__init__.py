"""Email digests: subscribers with double opt-in, selection of each subscriber's papers,
rendering, pooled SMTP delivery with a crash-safe send log, bounces and the scheduler.
The use cases are on :class:`Digests` (service.py, ``hub.digests``); the underscored modules
are its internals. docs/digests.md explains the design."""

from ..mail.transport import MailError
from ..site.errors import BadLink, RateLimited
from ._bounces import Bounce, BounceReport
from ._delivery import Report
from ._lease import SenderBusy
from ._plan import RunConflict
from ._render import Rendered
from ._subscriptions import Suppressed
from .model import (
    FREQUENCIES,
    MAX_SEEDS,
    WEEKDAYS,
    Pick,
    Preferences,
    SubscribeOutcome,
    Subscriber,
    time_zones,
)
from .service import Digests, SendResult

__all__ = [
    "FREQUENCIES",
    "MAX_SEEDS",
    "WEEKDAYS",
    "BadLink",
    "Bounce",
    "BounceReport",
    "Digests",
    "MailError",
    "Pick",
    "Preferences",
    "RateLimited",
    "Rendered",
    "Report",
    "RunConflict",
    "SendResult",
    "SenderBusy",
    "SubscribeOutcome",
    "Subscriber",
    "Suppressed",
    "time_zones",
]
