"""Email digests: subscribers with double opt-in, selection of each subscriber's papers,
rendering, pooled SMTP delivery with a crash-safe send log, bounces and the scheduler.
The use cases are on :class:`Digests` (service.py); docs/digests.md explains the design."""

from .model import Preferences, Subscriber
from .service import Digests, SendResult

__all__ = ["Digests", "Preferences", "SendResult", "Subscriber"]
