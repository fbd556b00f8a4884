"""Signed, timestamped values (session cookies, digest links) and the site's secret key.

A signed value is ``base64(payload) "." base64(HMAC-SHA256(key, base64(payload)))`` where the
payload is ``value "|" issued-at``; each purpose (session, CSRF...) derives its own key from
the secret, so a value signed for one purpose is worthless for another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import ConfigError
from ..store.schema_community import site_secrets
from ..store.session import Database

DEMO_SECRET = "demo_secret_key"  # noqa: S105 (the name of a row)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str, purpose: str) -> bytes:
    """The HMAC key of one purpose (callers on a hot path keep it)."""
    return hashlib.sha256(f"paperroute:{purpose}:{secret}".encode()).digest()


def mac_with_key(key: bytes, value: str) -> str:
    return _b64(hmac.new(key, value.encode(), hashlib.sha256).digest())


def mac(secret: str, purpose: str, value: str) -> str:
    """A keyed digest of ``value`` (for CSRF tokens: deterministic, unforgeable)."""
    return mac_with_key(derive_key(secret, purpose), value)


def sign(secret: str, purpose: str, value: str, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    payload = _b64(f"{value}|{issued}".encode())
    return f"{payload}.{mac(secret, purpose, payload)}"


def unsign(
    secret: str, purpose: str, token: str, *, max_age: float, now: float | None = None
) -> str | None:
    """The value of a token made by :func:`sign`, or None when it is forged, malformed or
    older than ``max_age`` seconds."""
    payload, dot, signature = token.partition(".")
    if not dot or len(token) > 4096:
        return None
    # compare_digest refuses a str with non-ASCII characters (TypeError): compare bytes, so
    # a forged signature like "abc.é" is just wrong, never an error.
    expected = mac(secret, purpose, payload).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass")):
        return None
    try:
        value, _, issued = _unb64(payload).decode().rpartition("|")
        age = (time.time() if now is None else now) - int(issued)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if age > max_age or age < -300:
        return None
    return value


def token_hash(token: str) -> str:
    """What is stored of a sign-in link or API token: never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def resolve_secret_key(config: Config, db: Database, clock: Clock = utcnow) -> str:
    """The key that signs cookies: ``config.secret_key``; in demo mode without one, a random
    key made once and kept in the database so that every worker process agrees on it.
    Raises ConfigError outside demo mode without a key."""
    if config.secret_key:
        if len(config.secret_key) < 16 and not config.demo:
            raise ConfigError("secret_key is too short: use at least 16 random characters")
        return config.secret_key
    if not config.demo:
        raise ConfigError(
            "serving the hub needs a secret key (it signs cookies and the links in digest "
            "mail): set PAPERROUTE_SECRET_KEY (for example "
            'python -c "import secrets; print(secrets.token_urlsafe(32))"); a demo database '
            "(paperroute demo load) needs PAPERROUTE_DEMO=1 instead"
        )
    with db.read() as connection:
        found = connection.scalar(
            select(site_secrets.c.value).where(site_secrets.c.name == DEMO_SECRET)
        )
    if found:
        return str(found)
    with db.write() as connection:
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(site_secrets).values(
                        name=DEMO_SECRET, value=secrets.token_urlsafe(32), created_at=clock()
                    )
                )
        except IntegrityError:
            pass  # another worker made it first: use theirs
    with db.read() as connection:
        return str(
            connection.scalar(
                select(site_secrets.c.value).where(site_secrets.c.name == DEMO_SECRET)
            )
        )
