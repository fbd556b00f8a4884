"""Signed links in digest mail: confirm a subscription, manage it, unsubscribe. No login.

A token signs ``subscriber pk "." hash(address) ["." token version]`` with HMAC-SHA256 under a
key derived from ``secret_key`` and the link's purpose (site/signing.py), so a link made
for one purpose or one address is worthless for another. The address itself is not in the
link (links end up in server logs). Confirmation links also carry the subscriber's token
version, which every confirmation and unsubscribe bumps: an old confirmation link cannot
re-activate an address that has since unsubscribed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from ..site.errors import BadLink
from ..site.signing import sign, unsign

__all__ = ["BadLink", "LinkTarget", "Purpose", "address_hash", "link", "make_token", "read_token"]

Purpose = Literal["confirm", "manage", "unsubscribe"]
MAX_AGE: dict[Purpose, int] = {
    "confirm": 7 * 86400,
    "manage": 180 * 86400,
    # Unsubscribe links in old mail must keep working (RFC 8058 asks for no expiry in practice).
    "unsubscribe": 3650 * 86400,
}


@dataclass(frozen=True, slots=True)
class LinkTarget:
    subscriber_pk: int
    address_hash: str
    version: int | None


def address_hash(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:20]


def make_token(
    secret: str,
    purpose: Purpose,
    subscriber_pk: int,
    email: str,
    version: int | None = None,
    *,
    now: float | None = None,
) -> str:
    value = f"{subscriber_pk}.{address_hash(email)}"
    if version is not None:
        value += f".{version}"
    return sign(secret, f"digest-{purpose}", value, now=now)


def read_token(
    secret: str, purpose: Purpose, token: str, *, now: float | None = None
) -> LinkTarget:
    """The subscriber a token names. Raises BadLink for anything else."""
    if not isinstance(token, str) or not token or len(token) > 512:
        raise BadLink("this link is not valid")
    value = unsign(secret, f"digest-{purpose}", token, max_age=MAX_AGE[purpose], now=now)
    if value is None:
        raise BadLink(
            "this link is not valid or has expired"
            + ("; subscribe again to get a new one" if purpose == "confirm" else "")
        )
    parts = value.split(".")
    try:
        pk = int(parts[0])
        version = int(parts[2]) if len(parts) > 2 else None
    except (ValueError, IndexError):
        raise BadLink("this link is not valid") from None
    return LinkTarget(pk, parts[1] if len(parts) > 1 else "", version)


def link(base_url: str, path: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{path}{quote(token, safe='.-_')}"
