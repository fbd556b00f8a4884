"""Subscribing with double opt-in, the suppression list, rate limits: on both databases, with
the confirmation mail read from the outbox it really went to."""

from __future__ import annotations

import re
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from sqlalchemy import func, select

from paperroute import Hub
from paperroute.digest import BadLink, Digests, RateLimited, Suppressed
from paperroute.errors import InvalidInput
from paperroute.site.addresses import InvalidAddress
from paperroute.store.schema_digests import subscribers, suppressions
from paperroute.store.schema_mail import outbox

PREFS = {"categories": "cs.CL", "keywords": ["agents"], "timezone": "Europe/Berlin"}


def mails(hub: Hub) -> list[EmailMessage]:
    with hub._db.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.raw).order_by(outbox.c.pk)).scalars().all()
    found = []
    for raw in rows:
        message = message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def link_in(message: EmailMessage, path: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    match = re.search(rf"https://papers\.example\.org{re.escape(path)}(\S+)", body.get_content())
    assert match, body.get_content()
    return match.group(1)


def test_double_opt_in(papers_hub: Hub, digests: Digests) -> None:
    outcome = digests.subscribe(" Reader@Example.org ", PREFS, client="192.0.2.1")
    assert outcome.confirmation_sent and outcome.subscriber.status == "pending"
    [mail] = mails(papers_hub)
    assert mail["To"] == "reader@example.org"
    assert "Confirm" in mail["Subject"]
    token = link_in(mail, "/subscribe/confirm?token=")
    # Pending: nothing is due to a subscriber who has not confirmed.
    assert digests.send(ignore_hour=True, dry_run=True).due == 0
    confirmed = digests.confirm(token)
    assert confirmed.status == "confirmed"
    assert digests.confirm(token).status == "confirmed"  # following it twice is fine
    assert digests.send(ignore_hour=True, dry_run=True).due == 1


def test_subscribing_a_confirmed_address_changes_nothing(papers_hub: Hub, digests: Digests) -> None:
    digests.subscribe("reader@example.org", PREFS)
    digests.confirm(link_in(mails(papers_hub)[0], "/subscribe/confirm?token="))
    outcome = digests.subscribe("reader@example.org", {"authors": "Someone Else"})
    assert not outcome.confirmation_sent
    note = mails(papers_hub)[-1]
    assert "already" in note.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = digests.find("reader@example.org")
    assert found is not None and found.prefs.authors == () and found.status == "confirmed"


def test_unsubscribed_address_needs_the_round_trip_again(papers_hub: Hub, digests: Digests) -> None:
    digests.subscribe("reader@example.org", PREFS)
    first_link = link_in(mails(papers_hub)[0], "/subscribe/confirm?token=")
    subscriber = digests.confirm(first_link)
    token = digests.manage_token(subscriber)
    digests.unsubscribe_by_manage_link(token)
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(suppressions.c.reason)) == "unsubscribed"
    # The old confirmation link cannot bring it back.
    with pytest.raises(BadLink):
        digests.confirm(first_link)
    outcome = digests.subscribe("reader@example.org", PREFS)
    assert outcome.confirmation_sent and "unsubscribed earlier" in outcome.message
    mail = mails(papers_hub)[-1]
    assert "unsubscribed" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert digests.send(ignore_hour=True, dry_run=True).due == 0  # still suppressed
    digests.confirm(link_in(mail, "/subscribe/confirm?token="))
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(suppressions)) == 0
    assert digests.send(ignore_hour=True, dry_run=True).due == 1


@pytest.mark.parametrize("reason", ["hard-bounce", "smtp-5xx", "manual"])
def test_hard_suppressed_address_cannot_subscribe(
    papers_hub: Hub, digests: Digests, reason: str
) -> None:
    digests.set_suppressed("reader@example.org", "manual", "test", lift=False)
    if reason != "manual":
        with papers_hub._db.engine.begin() as connection:
            connection.execute(suppressions.update().values(reason=reason))
    with pytest.raises(Suppressed, match="suppression list"):
        digests.subscribe("READER@example.org", PREFS)
    assert mails(papers_hub) == []
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(subscribers)) == 0


def test_rate_limits_per_address_and_per_client(
    papers_hub: Hub, digests_for: Callable[..., Digests]
) -> None:
    digests = digests_for(digest_subscribe_per_address_day=2, digest_subscribe_per_ip_hour=3)
    digests.subscribe("victim@example.org", PREFS, client="198.51.100.7")
    digests.subscribe("victim@example.org", PREFS, client="198.51.100.8")
    with pytest.raises(RateLimited, match="this address"):
        digests.subscribe("Victim@Example.org", PREFS, client="198.51.100.9")
    assert len(mails(papers_hub)) == 2  # the mail bomb stops at the limit
    digests.subscribe("a@example.org", PREFS, client="203.0.113.5")
    digests.subscribe("b@example.org", PREFS, client="203.0.113.5")
    digests.subscribe("c@example.org", PREFS, client="203.0.113.5")
    with pytest.raises(RateLimited, match="your network") as caught:
        digests.subscribe("d@example.org", PREFS, client="203.0.113.5")
    assert caught.value.retry_after > 0
    assert len(mails(papers_hub)) == 5


@pytest.mark.parametrize(
    ("email", "fields", "error"),
    [
        ("reader@example.org\r\nBcc: x@example.org", PREFS, InvalidAddress),
        ("üser@example.org", PREFS, InvalidAddress),
        ("reader@example.org", {"timezone": "Nowhere/City"}, InvalidInput),
        ("reader@example.org", {"trending": "off"}, InvalidInput),
        ("reader@example.org", {"max_papers": "-1"}, InvalidInput),
    ],
)
def test_bad_subscriptions_store_and_send_nothing(
    papers_hub: Hub, digests: Digests, email: str, fields: dict[str, object], error: type
) -> None:
    with pytest.raises(error):
        digests.subscribe(email, fields)
    assert mails(papers_hub) == []
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(subscribers)) == 0


def test_internationalised_domain_is_subscribed_in_ascii(papers_hub: Hub, digests: Digests) -> None:
    digests.subscribe("leser@bücher.de", PREFS)
    [mail] = mails(papers_hub)
    assert mail["To"] == "leser@xn--bcher-kva.de"


def test_a_link_for_a_removed_subscriber_is_refused(papers_hub: Hub, digests: Digests) -> None:
    digests.subscribe("reader@example.org", PREFS)
    token = link_in(mails(papers_hub)[0], "/subscribe/confirm?token=")
    with papers_hub._db.engine.begin() as connection:
        connection.execute(subscribers.delete())
    with pytest.raises(BadLink):
        digests.confirm(token)
