"""Services several features share: site secrets and signed tokens (signing.py), rate limits
(ratelimit.py), the one e-mail address normaliser (addresses.py), the demo outbox
(outbox.py, the only code that reads or writes it) and the shared errors (errors.py).

site/ stands on store/, mail/, config, errors and clock only: community/ and digest/ depend
on it, never on each other."""

from .addresses import InvalidAddress, display_email, normalise_email
from .errors import BadLink, RateLimited
from .outbox import OutboxMailer, OutboxMessage

__all__ = [
    "BadLink",
    "InvalidAddress",
    "OutboxMailer",
    "OutboxMessage",
    "RateLimited",
    "display_email",
    "normalise_email",
]
