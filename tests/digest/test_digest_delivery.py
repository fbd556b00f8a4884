"""Delivery to a real SMTP server on 127.0.0.1 that records every accepted message, with the
faults a mail server throws at a sender: each test asserts what was sent, retried and
suppressed, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from sqlalchemy import func, select

from paperroute import Hub
from paperroute.digest import Digests
from paperroute.digest import _plan as planning
from paperroute.digest._links import make_token
from paperroute.store.schema_digests import bounces, digest_sends, suppressions
from paperroute.store.session import Database
from support.digest_data import AS_OF
from support.smtp import SmtpServer

CHOICES = [
    {"trending": "on"},
    {"trending": "off", "categories": "cs.CL"},
    {"trending": "off", "keywords": ["agents"]},
    {"trending": "on", "categories": "cs.CV", "keywords": ['"language model*"']},
    {"trending": "off", "categories": "cs.AI", "max_papers": "3"},
]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def add_subscribers(hub: Hub, count: int) -> list[str]:
    emails = []
    for n in range(count):
        email = f"reader{n:03d}@example.org"
        hub.digests.add_confirmed(email, CHOICES[n % len(CHOICES)])
        emails.append(email)
    return emails


@pytest.fixture
def over_smtp(digests_for: Callable[..., Digests], smtp: SmtpServer) -> Callable[..., Digests]:
    def make(**overrides: object) -> Digests:
        return digests_for(smtp_url=smtp.url, digest_pool_size=3, **overrides)

    return make


def parsed(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_every_subscriber_gets_one_well_formed_digest(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    emails = add_subscribers(papers_hub, 10)
    result = over_smtp().send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 10 and result.report.retried == 0
    assert smtp.recipients() == {e: 1 for e in emails}
    with papers_hub._db.engine.connect() as connection:
        stored = dict(
            connection.execute(select(digest_sends.c.message_id, digest_sends.c.status)).all()
        )
    for item in smtp.messages:
        message = parsed(item.data)
        assert stored[message["Message-ID"]] == "sent"  # stable, stored before sending
        assert re.fullmatch(
            r"paperroute digest, Fri 21 Aug 2026: \d+ papers?", message["Subject"]
        ), message["Subject"]
        unsubscribe_header = message["List-Unsubscribe"]
        assert re.search(r"<https://papers\.example\.org/unsubscribe/[\w.-]+>", unsubscribe_header)
        assert re.search(
            r"<mailto:digest@papers\.example\.org\?subject=unsubscribe%20", unsubscribe_header
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert (message["To"],) == item.recipients
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "<style" not in html and 'style="' in html and "<table" in html
        assert "https://papers.example.org/papers/2608." in html
        assert "https://arxiv.org/pdf/2608." in text
        assert re.search(r"\[(trending|new in|matches|by)", text)
        count = int(re.search(r": (\d+) paper", message["Subject"]).group(1))  # type: ignore[union-attr]
        assert text.count("  Page: ") == count


def test_550_for_one_address_suppresses_it(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    emails = add_subscribers(papers_hub, 6)
    smtp.refuse(emails[2], 550)
    result = over_smtp().send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 5 and result.report.suppressed == 1
    assert result.report.retried == 0  # a permanent failure is not retried
    assert emails[2] not in smtp.recipients()
    with papers_hub._db.engine.connect() as connection:
        assert connection.execute(select(suppressions.c.email, suppressions.c.reason)).all() == [
            (emails[2], "smtp-5xx")
        ]
        assert connection.scalar(select(bounces.c.kind)) == "hard"
    # The next run leaves the suppressed address out.
    later = over_smtp().send(as_of=AS_OF + dt.timedelta(days=3), ignore_hour=True)
    assert later.report.suppressed == 0
    assert smtp.recipients()[emails[2]] == 0


def test_4xx_is_retried_with_back_off(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    emails = add_subscribers(papers_hub, 4)
    smtp.refuse(emails[1], 450, times=2)
    result = over_smtp().send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 4 and result.report.retried == 2
    assert smtp.recipients() == {e: 1 for e in emails}
    assert [code for _, code in smtp.refusals] == [450, 450]


def test_421_mid_run_reconnects_and_finishes(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    emails = add_subscribers(papers_hub, 9)
    smtp.close_with_421_after(3)
    result = over_smtp().send(as_of=AS_OF, ignore_hour=True)
    assert smtp.closed_421 == 1
    assert result.report.sent == 9 and result.report.retried >= 1
    assert smtp.recipients() == {e: 1 for e in emails}


def test_dropped_connections_are_resent_exactly_once(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    emails = add_subscribers(papers_hub, 8)
    smtp.drop_at_dot(3)  # closed before accepting: the server has nothing
    result = over_smtp().send(as_of=AS_OF, ignore_hour=True)
    assert smtp.dropped == 3
    assert result.report.sent == 8 and result.report.retried == 3
    assert smtp.recipients() == {e: 1 for e in emails}


def test_accepted_but_unacknowledged_message_is_resent_identically(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    """RFC 1047: the server took the message but the 250 never arrived. The sender cannot
    know; it sends the same bytes with the same Message-ID again, which a mailbox collapses."""
    emails = add_subscribers(papers_hub, 5)
    smtp.accept_then_drop(1)
    result = over_smtp().send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 5 and result.report.retried == 1
    counts = smtp.recipients()
    [twice] = [e for e, n in counts.items() if n == 2]
    first, second = smtp.to(twice)
    assert first.data == second.data
    assert {e: len(v) for e, v in smtp.mailbox().items()} == {e: 1 for e in emails}


def test_a_slow_server_is_sent_to_in_parallel(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    emails = add_subscribers(papers_hub, 6)
    smtp.slow(0.4)
    started = time.monotonic()
    result = over_smtp().send(as_of=AS_OF, ignore_hour=True)
    elapsed = time.monotonic() - started
    assert result.report.sent == 6
    assert smtp.recipients() == {e: 1 for e in emails}
    assert elapsed < 6 * 0.4  # three connections at once, not one after the other


def test_rate_limit_spaces_messages(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    add_subscribers(papers_hub, 6)
    started = time.monotonic()
    result = over_smtp(digest_rate_per_s=10.0).send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 6
    assert time.monotonic() - started >= 0.5  # six messages at 10/s: at least 0.5 s apart


def test_server_down_defers_then_the_next_run_delivers(
    papers_hub: Hub, digests_for: Callable[..., Digests]
) -> None:
    emails = add_subscribers(papers_hub, 3)
    with SmtpServer() as server:
        url = server.url
    down = digests_for(smtp_url=url, digest_max_attempts=2, digest_pool_size=2)
    result = down.send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 0 and result.report.deferred == 3
    with papers_hub._db.engine.connect() as connection:
        assert set(connection.scalars(select(digest_sends.c.status))) == {"deferred"}
    with SmtpServer() as server:
        up = digests_for(smtp_url=server.url)
        again = up.send(as_of=AS_OF, ignore_hour=True)
        assert again.resumed_runs and again.report.sent == 3 and again.planned == 0
        assert server.recipients() == {e: 1 for e in emails}


def test_unsubscribed_after_planning_gets_nothing(
    papers_hub: Hub, over_smtp: Callable[..., Digests], smtp: SmtpServer
) -> None:
    emails = add_subscribers(papers_hub, 3)
    digests = over_smtp()
    db = Database(papers_hub._db.engine)
    plan = planning.compute(db, digests.config, AS_OF, ignore_hour=True)
    planning.store(db, digests.config, digests.secret, plan)
    victim = digests.find(emails[0])
    assert victim is not None
    digests.unsubscribe(make_token(digests.secret, "unsubscribe", victim.pk, victim.email))
    result = digests.send(as_of=AS_OF, ignore_hour=True)
    assert result.report.cancelled == 1 and result.report.sent == 2
    assert emails[0] not in smtp.recipients()


def test_outbox_delivery_is_one_transaction(
    papers_hub: Hub, digests_for: Callable[..., Digests]
) -> None:
    from paperroute.store.schema_mail import outbox

    emails = add_subscribers(papers_hub, 4)
    result = digests_for(smtp_url="outbox").send(as_of=AS_OF, ignore_hour=True)
    assert result.report.sent == 4
    with papers_hub._db.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.recipient, outbox.c.raw)).all()
        assert sorted(r.recipient for r in rows) == emails
        assert connection.scalar(select(func.count()).where(digest_sends.c.status == "sent")) == 4
    message = parsed(rows[0].raw)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
