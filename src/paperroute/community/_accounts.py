"""Readers: sign-in links, accounts, admin and ban flags, personal API tokens.

Sign-in links and API tokens are random secrets shown once; only their SHA-256 is stored,
so a leaked database does not let anyone sign in.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import InvalidInput, NotFound
from ..site.errors import BadLink
from ..site.signing import token_hash
from ..store.schema_community import api_tokens, login_tokens, user_sessions, users
from ._names import check_name, default_key, default_name, key_pattern, skeleton
from ._text import clean_text
from .errors import Forbidden
from .model import ApiToken, User

MAX_EMAIL = 254
MAX_TOKEN_NAME = 80
MAX_ACTIVE_TOKENS = 50
# Revoked tokens kept for a reader's list (the newest revoked); older ones are deleted when
# a token is made, so that making and revoking tokens in a loop cannot grow the table.
MAX_REVOKED_TOKENS = 50
API_TOKEN_PREFIX = "prt_"  # noqa: S105 (a prefix, not a secret)


def _user(row: Row[tuple[object, ...]]) -> User:
    m = row._mapping
    return User(
        pk=int(m["pk"]),
        email=str(m["email"]),
        display_name=str(m["display_name"]),
        name_chosen=m["name_chosen_at"] is not None,
        is_admin=bool(m["is_admin"]),
        banned_at=m["banned_at"],
        created_at=m["created_at"],
    )


def user_by_pk(connection: Connection, pk: int) -> User | None:
    row = connection.execute(select(users).where(users.c.pk == pk)).first()
    return _user(row) if row else None


def user_by_email(connection: Connection, email: str) -> User | None:
    row = connection.execute(select(users).where(users.c.email == email.lower())).first()
    return _user(row) if row else None


def ensure_user(connection: Connection, email: str, now: datetime) -> User:
    """The reader with this address, created on first sign-in with the neutral name
    ``reader-<pk>`` (nothing of the address is ever shown: _names.py)."""
    found = user_by_email(connection, email)
    if found:
        return found
    interim = secrets.token_hex(10)  # unique until the pk is known, in this transaction
    try:
        with connection.begin_nested():
            inserted = connection.execute(
                insert(users).values(
                    email=email,
                    display_name=f"new-{interim}",
                    display_key=f"new{interim}",
                    is_admin=False,
                    created_at=now,
                )
            )
            pk = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            connection.execute(
                update(users)
                .where(users.c.pk == pk)
                .values(display_name=default_name(pk), display_key=default_key(pk))
            )
    except IntegrityError:
        pass  # made by a concurrent request for the same address
    made = user_by_email(connection, email)
    assert made is not None
    return made


NAME_TAKEN = "that display name is taken (or too close to one that is): choose another"


def set_display_name(connection: Connection, user_pk: int, value: str, now: datetime) -> User:
    """Choose the reader's public name. Raises InvalidInput (see _names.check_name), also
    when another reader's name has the same key."""
    name, key = check_name(value)
    holder = connection.scalar(select(users.c.pk).where(users.c.display_key == key))
    if holder is not None and holder != user_pk:
        raise InvalidInput(NAME_TAKEN)
    # A name that passes for another reader's by its I, l and 1 ("AIice" for "Alice").
    pattern = key_pattern(name)
    if pattern is not None:
        rivals = connection.execute(
            select(users.c.display_name).where(
                users.c.display_key.like(pattern),
                users.c.name_chosen_at.is_not(None),
                users.c.pk != user_pk,
            )
        ).scalars()
        mine = skeleton(name)
        if any(skeleton(other) == mine for other in rivals):
            raise InvalidInput(NAME_TAKEN)
    try:
        with connection.begin_nested():
            connection.execute(
                update(users)
                .where(users.c.pk == user_pk)
                .values(display_name=name, display_key=key, name_chosen_at=now)
            )
    except IntegrityError:  # chosen by another reader at the same moment
        raise InvalidInput(NAME_TAKEN) from None
    found = user_by_pk(connection, user_pk)
    if found is None:
        raise NotFound(f"no reader {user_pk}")
    return found


def list_users(connection: Connection, *, limit: int = 1000) -> list[User]:
    rows = connection.execute(select(users).order_by(users.c.pk).limit(limit))
    return [_user(r) for r in rows]


def set_flags(
    connection: Connection,
    user_pk: int,
    *,
    is_admin: bool | None = None,
    banned_at: datetime | bool | None = False,
) -> User:
    """Change the admin flag and/or the ban (``banned_at``: a time, None to lift it, False
    to leave it). Raises NotFound."""
    values: dict[str, object] = {}
    if is_admin is not None:
        values["is_admin"] = is_admin
    if banned_at is not False:
        values["banned_at"] = banned_at
    if values:
        connection.execute(update(users).where(users.c.pk == user_pk).values(**values))
    found = user_by_pk(connection, user_pk)
    if found is None:
        raise NotFound(f"no reader {user_pk}")
    return found


# -- sign-in links ----------------------------------------------------------------------


def issue_login_token(connection: Connection, email: str, now: datetime, minutes: int) -> str:
    token = secrets.token_urlsafe(32)
    connection.execute(
        insert(login_tokens).values(
            token_hash=token_hash(token),
            email=email,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    return token


_LINK_INVALID = "this sign-in link is not valid: ask for a new one"


def check_login_token(connection: Connection, token: str, now: datetime) -> str:
    """The address a still-usable link signs in; BadLink naming why it cannot be used."""
    if not token or len(token) > 200:
        raise BadLink(_LINK_INVALID)
    row = connection.execute(
        select(login_tokens).where(login_tokens.c.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise BadLink(_LINK_INVALID)
    if row.used_at is not None:
        raise BadLink("this sign-in link was already used: each link works once; ask for a new one")
    expires = row.expires_at
    if expires is None or expires <= now:
        raise BadLink("this sign-in link has expired: ask for a new one")
    return str(row.email)


def redeem_login_token(connection: Connection, token: str, now: datetime) -> User:
    """Use a sign-in link once: the reader it names (created if new). Raises BadLink, or
    Forbidden for a banned reader."""
    email = check_login_token(connection, token, now)
    # The used_at condition makes two concurrent redemptions of one link succeed only once.
    claimed = connection.execute(
        update(login_tokens)
        .where(login_tokens.c.token_hash == token_hash(token), login_tokens.c.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise BadLink("this sign-in link was already used: each link works once; ask for a new one")
    user = ensure_user(connection, email, now)
    if user.banned:
        raise Forbidden("this account is suspended: it cannot sign in")
    connection.execute(update(users).where(users.c.pk == user.pk).values(last_seen_at=now))
    return user


# -- personal API tokens ----------------------------------------------------------------


def create_api_token(connection: Connection, user_pk: int, name: str, now: datetime) -> str:
    label = " ".join(clean_text(name, "a token name").split())
    if not label:
        raise InvalidInput("give the token a name (e.g. the script that will use it)")
    if len(label) > MAX_TOKEN_NAME:
        raise InvalidInput(f"a token name has at most {MAX_TOKEN_NAME} characters")
    active = connection.scalar(
        select(func.count())
        .select_from(api_tokens)
        .where(api_tokens.c.user_pk == user_pk, api_tokens.c.revoked_at.is_(None))
    )
    if int(active or 0) >= MAX_ACTIVE_TOKENS:
        raise InvalidInput(
            f"at most {MAX_ACTIVE_TOKENS} active tokens per reader: revoke one first"
        )
    mine = (api_tokens.c.user_pk == user_pk) & api_tokens.c.revoked_at.is_not(None)
    kept = (
        select(api_tokens.c.pk)
        .where(mine)
        .order_by(api_tokens.c.revoked_at.desc(), api_tokens.c.pk.desc())
        .limit(MAX_REVOKED_TOKENS)
        .scalar_subquery()
    )
    connection.execute(delete(api_tokens).where(mine, api_tokens.c.pk.not_in(kept)))
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    connection.execute(
        insert(api_tokens).values(
            user_pk=user_pk, token_hash=token_hash(token), name=label, created_at=now
        )
    )
    return token


def list_api_tokens(connection: Connection, user_pk: int) -> list[ApiToken]:
    rows = connection.execute(
        select(api_tokens).where(api_tokens.c.user_pk == user_pk).order_by(api_tokens.c.pk.desc())
    )
    return [
        ApiToken(
            pk=int(r.pk),
            name=str(r.name),
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            revoked_at=r.revoked_at,
        )
        for r in rows
    ]


def revoke_api_token(connection: Connection, user_pk: int, token_pk: int, now: datetime) -> None:
    done = connection.execute(
        update(api_tokens)
        .where(
            api_tokens.c.pk == token_pk,
            api_tokens.c.user_pk == user_pk,
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    ).rowcount
    if done != 1:
        raise NotFound(f"no active token {token_pk}")


def user_for_api_token(connection: Connection, token: str, now: datetime) -> User | None:
    """The reader a bearer token belongs to; None for an unknown or revoked token."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        return None
    row = connection.execute(
        select(api_tokens.c.pk, api_tokens.c.user_pk, api_tokens.c.last_used_at).where(
            api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    last = row.last_used_at
    if last is None or now - last > timedelta(minutes=5):  # not a write per request
        connection.execute(
            update(api_tokens).where(api_tokens.c.pk == row.pk).values(last_used_at=now)
        )
    return user_by_pk(connection, int(row.user_pk))


# -- sessions ---------------------------------------------------------------------------


def open_session(connection: Connection, user_pk: int, now: datetime, max_days: int) -> str:
    """A new session's nonce (for the signed cookie); the reader's expired sessions go."""
    connection.execute(
        delete(user_sessions).where(
            user_sessions.c.user_pk == user_pk,
            user_sessions.c.created_at < now - timedelta(days=max_days),
        )
    )
    nonce = secrets.token_urlsafe(24)
    connection.execute(
        insert(user_sessions).values(id=token_hash(nonce), user_pk=user_pk, created_at=now)
    )
    return nonce


def session_user(
    connection: Connection, user_pk: int, nonce: str, now: datetime, max_days: int
) -> User | None:
    """The reader of a live session; None once it was closed, expired or is someone else's."""
    row = connection.execute(
        select(users)
        .join(user_sessions, user_sessions.c.user_pk == users.c.pk)
        .where(
            user_sessions.c.id == token_hash(nonce),
            users.c.pk == user_pk,
            user_sessions.c.created_at > now - timedelta(days=max_days),
        )
    ).first()
    return _user(row) if row else None


def close_session(connection: Connection, nonce: str) -> None:
    connection.execute(delete(user_sessions).where(user_sessions.c.id == token_hash(nonce)))


def close_all_sessions(connection: Connection, user_pk: int) -> None:
    connection.execute(delete(user_sessions).where(user_sessions.c.user_pk == user_pk))


def delete_user(connection: Connection, user_pk: int) -> None:
    """The account and everything it owns: votes, comments, collections, tokens, sessions and
    its For-you signals go with it (ON DELETE CASCADE); moderation and audit rows it wrote
    keep their text and lose the name (SET NULL)."""
    close_all_sessions(connection, user_pk)
    connection.execute(delete(users).where(users.c.pk == user_pk))


def sweep(connection: Connection, now: datetime, session_days: int) -> tuple[int, int]:
    """Delete sign-in links past their expiry (used or not) and sessions past
    ``session_days``: (links, sessions) deleted. Housekeeping; no reader sees a difference."""
    links = connection.execute(delete(login_tokens).where(login_tokens.c.expires_at < now))
    sessions = connection.execute(
        delete(user_sessions).where(user_sessions.c.created_at < now - timedelta(days=session_days))
    )
    return links.rowcount, sessions.rowcount
