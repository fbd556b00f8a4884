"""Subscribers and the suppression list: subscribe (double opt-in), confirm, manage,
unsubscribe, suppress. Every function takes the database and commits its own transaction;
those that stamp a time take the site's clock.

The suppression list wins over everything: a suppressed address is never mailed a digest.
Re-subscribing an address suppressed because it unsubscribed (or soft-bounced) takes the
confirmation round trip again, and the confirmation mail says so; an address suppressed for
a hard bounce, a complaint or by an operator cannot be re-subscribed from the form at all.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import InvalidInput, NotFound, PaperrouteError
from ..site.addresses import normalise_email
from ..site.errors import BadLink, RateLimited
from ..site.outbox import open_mailer
from ..site.ratelimit import hit
from ..store.schema import papers
from ..store.schema_community import hidden_papers
from ..store.schema_digests import digest_sends, subscribers, suppressions
from ..store.session import Database
from . import _links as links
from . import _notices as notices
from .model import Preferences, SubscribeOutcome, Subscriber

# Suppressed for these reasons, an address can come back only through an operator.
HARD_REASONS = frozenset({"hard-bounce", "smtp-5xx", "complaint", "manual"})
SOFT_REASONS = frozenset({"unsubscribed", "soft-bounce"})


class Suppressed(PaperrouteError):
    """The address is on the suppression list for a reason a subscribe cannot lift (403)."""


__all__ = ["RateLimited", "Suppressed"]


def _prefs_columns(prefs: Preferences) -> dict[str, Any]:
    return {
        "frequency": prefs.frequency,
        "weekday": prefs.weekday,
        "send_hour": prefs.send_hour,
        "timezone": prefs.timezone,
        "trending": prefs.trending,
        "categories": json.dumps(list(prefs.categories)),
        "keywords": json.dumps(list(prefs.keywords)),
        "authors": json.dumps(list(prefs.authors)),
        "max_papers": prefs.max_papers,
        "for_you": prefs.for_you,
        "seed_ids": json.dumps(list(prefs.seeds)),
    }


def _json_list(text: str) -> tuple[str, ...]:
    return () if text == "[]" else tuple(json.loads(text))


def to_subscriber(row: Any) -> Subscriber:
    prefs = Preferences(
        frequency=row.frequency,
        weekday=int(row.weekday),
        send_hour=int(row.send_hour),
        timezone=row.timezone,
        trending=bool(row.trending),
        categories=_json_list(row.categories),
        keywords=_json_list(row.keywords),
        authors=_json_list(row.authors),
        max_papers=int(row.max_papers),
        for_you=bool(row.for_you),
        seeds=_json_list(row.seed_ids),
    )
    created = row.created_at
    assert created is not None
    return Subscriber(
        pk=int(row.pk),
        email=row.email,
        status=row.status,
        prefs=prefs,
        token_version=int(row.token_version),
        through_day=row.through_day,
        created_at=created,
        confirmed_at=row.confirmed_at,
    )


def unknown_seeds(connection: Connection, seeds: tuple[str, ...]) -> list[str]:
    """The seed papers this hub does not hold (yet): they are kept, and count as soon as
    it ingests them (as a library's entries do), but steer nothing until then."""
    if not seeds:
        return []
    held = set(
        connection.execute(
            select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(list(seeds)))
        ).scalars()
    )
    return [seed for seed in seeds if seed not in held]


def seed_titles(connection: Connection, seeds: tuple[str, ...]) -> dict[str, str]:
    """The titles of the seed papers this hub holds and shows (a paper the moderators hid
    keeps its title to itself), by arXiv id."""
    if not seeds:
        return {}
    statement = select(papers.c.arxiv_id, papers.c.title).where(
        papers.c.arxiv_id.in_(list(seeds)),
        papers.c.pk.not_in(select(hidden_papers.c.paper_pk)),
    )
    return {str(arxiv_id): str(title) for arxiv_id, title in connection.execute(statement)}


def find(connection: Connection, email: str) -> Subscriber | None:
    row = connection.execute(select(subscribers).where(subscribers.c.email == email)).first()
    return to_subscriber(row) if row else None


def get(connection: Connection, pk: int) -> Subscriber:
    row = connection.execute(select(subscribers).where(subscribers.c.pk == pk)).first()
    if row is None:
        raise NotFound("no such subscription (it may have been removed)")
    return to_subscriber(row)


def suppression(connection: Connection, email: str) -> tuple[str, str] | None:
    row = connection.execute(
        select(suppressions.c.reason, suppressions.c.detail).where(suppressions.c.email == email)
    ).first()
    return (row.reason, row.detail) if row else None


def suppress(
    connection: Connection, email: str, reason: str, detail: str = "", *, clock: Clock = utcnow
) -> None:
    """Put ``email`` on the suppression list. A hard reason replaces a soft one, never the
    other way round."""
    current = suppression(connection, email)
    values = {"reason": reason, "detail": detail[:1000], "created_at": clock()}
    if current is None:
        try:
            with connection.begin_nested():
                connection.execute(insert(suppressions).values(email=email, **values))
            return
        except IntegrityError:
            current = suppression(connection, email)  # suppressed meanwhile
            if current is None:
                raise
    if current[0] in SOFT_REASONS or reason in HARD_REASONS:
        connection.execute(update(suppressions).where(suppressions.c.email == email).values(values))


def _sent_text(address: str) -> str:
    return (
        f"We sent a message to {address}: check your inbox. A new subscription starts only "
        "when the confirmation link in it is followed."
    )


def _check_rate(db: Database, config: Config, email: str, client: str | None, now: float) -> None:
    # Committed on its own: a refused request still counts, and counting never waits for
    # the mail server.
    with db.write() as connection:
        if client:
            hit(
                connection,
                f"digest-subscribe:ip:{client}",
                limit=config.digest_subscribe_per_ip_hour,
                window=3600,
                now=now,
                what="subscribe requests from your network",
            )
        hit(
            connection,
            f"digest-subscribe:to:{links.address_hash(email)}",
            limit=config.digest_subscribe_per_address_day,
            window=86400,
            now=now,
            what="subscribe requests for this address",
        )


def subscribe(
    db: Database,
    config: Config,
    secret: str,
    email: str,
    prefs: Preferences,
    *,
    client: str | None = None,
    clock: Clock = utcnow,
) -> SubscribeOutcome:
    """Start a subscription: store it as pending and mail the confirmation link.

    An address that is already confirmed keeps its preferences (whoever typed it may not be
    its owner) and gets a note with its manage link instead. Raises InvalidAddress,
    RateLimited, Suppressed (hard reasons), MailError / ConfigError when mail cannot go."""
    address = normalise_email(email)
    now = clock()
    _check_rate(db, config, address, client, now.timestamp())
    mailer = open_mailer(config, db, clock)
    with db.write() as connection:
        suppressed = suppression(connection, address)
        if suppressed and suppressed[0] in HARD_REASONS:
            raise Suppressed(
                f"{address} is on our suppression list ({suppressed[0]}): it cannot be "
                "subscribed again from here; ask the operator of this site"
            )
        existing = find(connection, address)
        if existing is not None and existing.status == "confirmed" and not suppressed:
            manage = links.link(
                config.base_url,
                "/subscription/",
                links.make_token(secret, "manage", existing.pk, address),
            )
            message = notices.already_subscribed(config, address, manage, now)
            # Worded as for a new address: the answer must not tell a stranger who is
            # subscribed (the mail itself says so, to the address's owner only).
            outcome = SubscribeOutcome(existing, False, _sent_text(address))
        else:
            values = {**_prefs_columns(prefs), "status": "pending", "updated_at": now}
            if existing is None:
                pk = connection.execute(
                    insert(subscribers)
                    .values(
                        email=address,
                        token_version=1,
                        created_at=now,
                        **values,
                    )
                    .returning(subscribers.c.pk)
                ).scalar_one()
            else:
                pk = existing.pk
                connection.execute(update(subscribers).where(subscribers.c.pk == pk).values(values))
            subscriber = get(connection, pk)
            token = links.make_token(
                secret,
                "confirm",
                pk,
                address,
                subscriber.token_version,
                now=now.timestamp(),
            )
            confirm = links.link(config.base_url, "/subscribe/confirm?token=", token)
            message = notices.confirmation(
                config, address, confirm, now, resubscribe=suppressed is not None
            )
            text = _sent_text(address)
            if suppressed is not None:
                text = (
                    f"{address} unsubscribed earlier, so it stays suppressed until the "
                    "confirmation link we just sent there is followed."
                )
            outcome = SubscribeOutcome(subscriber, True, text)
    # Mailed after the commit (the outbox writes through its own connection). If the mail
    # cannot go, the pending row is harmless: nothing is sent to a pending subscriber.
    mailer.send(message)
    return outcome


def _from_link(
    connection: Connection, secret: str, purpose: links.Purpose, token: str
) -> Subscriber:
    target = links.read_token(secret, purpose, token)
    row = connection.execute(
        select(subscribers).where(subscribers.c.pk == target.subscriber_pk)
    ).first()
    if row is None or links.address_hash(row.email) != target.address_hash:
        raise BadLink("this link is not valid any more (the subscription was removed)")
    return to_subscriber(row)


def _confirmable(connection: Connection, secret: str, token: str) -> tuple[Subscriber, bool]:
    """The subscriber a confirmation link names, and whether it is confirmed already.
    Raises BadLink for a link that can no longer confirm anything."""
    subscriber = _from_link(connection, secret, "confirm", token)
    target = links.read_token(secret, "confirm", token)
    if subscriber.status == "confirmed" and target.version == subscriber.token_version - 1:
        return subscriber, True
    if subscriber.status != "pending" or target.version != subscriber.token_version:
        raise BadLink("this confirmation link is not valid any more: subscribe again")
    return subscriber, False


def check_confirmation(db: Database, secret: str, token: str) -> tuple[Subscriber, bool]:
    """What :func:`confirm` would confirm, changing nothing (the page a GET shows: mail
    scanners follow links, and must not confirm a subscription on their own)."""
    with db.read() as connection:
        return _confirmable(connection, secret, token)


def confirm(db: Database, secret: str, token: str, *, clock: Clock = utcnow) -> Subscriber:
    """Confirm with the mailed link's token: pending -> confirmed, lifting a soft
    suppression. Confirming twice is fine. Raises BadLink, Suppressed."""
    with db.write() as connection:
        subscriber, done = _confirmable(connection, secret, token)
        if done:
            return subscriber
        suppressed = suppression(connection, subscriber.email)
        if suppressed and suppressed[0] in HARD_REASONS:
            raise Suppressed(f"{subscriber.email} is suppressed ({suppressed[0]})")
        connection.execute(delete(suppressions).where(suppressions.c.email == subscriber.email))
        now = clock()
        connection.execute(
            update(subscribers)
            .where(subscribers.c.pk == subscriber.pk)
            .values(
                status="confirmed",
                confirmed_at=now,
                updated_at=now,
                token_version=subscriber.token_version + 1,
            )
        )
        return get(connection, subscriber.pk)


def from_manage_link(db: Database, secret: str, token: str) -> Subscriber:
    with db.read() as connection:
        return _from_link(connection, secret, "manage", token)


def from_unsubscribe_link(db: Database, secret: str, token: str) -> Subscriber:
    with db.read() as connection:
        return _from_link(connection, secret, "unsubscribe", token)


def update_preferences(
    db: Database, pk: int, prefs: Preferences, *, clock: Clock = utcnow
) -> Subscriber:
    with db.write() as connection:
        connection.execute(
            update(subscribers)
            .where(subscribers.c.pk == pk)
            .values(**_prefs_columns(prefs), updated_at=clock())
        )
        return get(connection, pk)


def unsubscribe(
    db: Database, pk: int, detail: str = "unsubscribe link", *, clock: Clock = utcnow
) -> Subscriber:
    """Stop every digest to this subscriber and suppress the address. Idempotent."""
    with db.write() as connection:
        subscriber = get(connection, pk)
        if subscriber.status != "unsubscribed":
            connection.execute(
                update(subscribers)
                .where(subscribers.c.pk == pk)
                .values(
                    status="unsubscribed",
                    updated_at=clock(),
                    token_version=subscriber.token_version + 1,
                )
            )
        suppress(connection, subscriber.email, "unsubscribed", detail, clock=clock)
        return get(connection, pk)


def subscribe_verified(
    db: Database, email: str, prefs: Preferences, *, clock: Clock = utcnow
) -> Subscriber | None:
    """Confirm at once an address whose owner proved it otherwise (a sign-in link). None
    when the address is suppressed: that needs the confirmation round trip."""
    address = normalise_email(email)
    with db.read() as connection:
        if suppression(connection, address) is not None:
            return None
    return add_confirmed(db, address, prefs, clock=clock)


def add_confirmed(
    db: Database, email: str, prefs: Preferences, *, clock: Clock = utcnow
) -> Subscriber:
    """An operator adds a confirmed subscriber (importing an opted-in list). Refuses a
    suppressed address."""
    address = normalise_email(email)
    now = clock()
    with db.write() as connection:
        suppressed = suppression(connection, address)
        if suppressed:
            raise Suppressed(f"{address} is suppressed ({suppressed[0]}); lift it first")
        existing = find(connection, address)
        values = {**_prefs_columns(prefs), "status": "confirmed", "updated_at": now}
        if existing is None:
            connection.execute(
                insert(subscribers).values(
                    email=address, token_version=1, created_at=now, confirmed_at=now, **values
                )
            )
        else:
            connection.execute(
                update(subscribers)
                .where(subscribers.c.pk == existing.pk)
                .values(confirmed_at=now, **values)
            )
        found = find(connection, address)
        assert found is not None
        return found


def remove(db: Database, email: str) -> bool:
    """Delete a subscriber (its send log goes too); a suppression stays. True if found."""
    address = normalise_email(email)
    with db.write() as connection:
        result = connection.execute(delete(subscribers).where(subscribers.c.email == address))
        return bool(result.rowcount)


def set_suppressed(
    db: Database, email: str, reason: str, detail: str, *, lift: bool, clock: Clock = utcnow
) -> None:
    address = normalise_email(email)
    with db.write() as connection:
        if lift:
            connection.execute(delete(suppressions).where(suppressions.c.email == address))
        else:
            suppress(connection, address, reason, detail, clock=clock)


def listing(
    db: Database, status: str | None = None, limit: int = 1000
) -> list[tuple[Subscriber, str | None]]:
    """Subscribers (newest first) with their suppression reason, if any."""
    query = (
        select(subscribers, suppressions.c.reason.label("suppressed"))
        .outerjoin(suppressions, suppressions.c.email == subscribers.c.email)
        .order_by(subscribers.c.pk.desc())
        .limit(limit)
    )
    if status:
        if status not in {"pending", "confirmed", "unsubscribed"}:
            raise InvalidInput("status must be pending, confirmed or unsubscribed")
        query = query.where(subscribers.c.status == status)
    with db.read() as connection:
        return [(to_subscriber(row), row.suppressed) for row in connection.execute(query)]


def counts(db: Database) -> dict[str, int]:
    with db.read() as connection:
        rows = connection.execute(
            select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
        )
        found = {str(status): int(count) for status, count in rows}
        found["suppressed"] = int(
            connection.scalar(select(func.count()).select_from(suppressions)) or 0
        )
        return found


def send_counts(db: Database) -> dict[str, int]:
    """Rows of the send log per status (sent, failed, deferred, pending, committing)."""
    with db.read() as connection:
        rows = connection.execute(
            select(digest_sends.c.status, func.count()).group_by(digest_sends.c.status)
        )
        return {str(status): int(count) for status, count in rows}
