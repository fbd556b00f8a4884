"""One clock: a hub opened with a fixed clock runs a whole digest (subscribe, plan, send,
bounce) at that time, with no "now" of its own anywhere on the way."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from paperroute import Hub, open_hub
from paperroute.store.schema_digests import (
    bounces,
    digest_runs,
    digest_sends,
    subscribers,
    suppressions,
)
from paperroute.store.schema_mail import outbox
from support.digest_data import AS_OF, make_config, paper_records

DSN = b"""From: MAILER-DAEMON@example.org
To: digest@papers.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

It bounced.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; fixed@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 no such user
--b--
"""


@pytest.fixture
def fixed_hub(database_url: str) -> Iterator[Hub]:
    with open_hub(make_config(database_url), clock=lambda: AS_OF) as hub:
        assert not hub.papers.ingest(paper_records()).skipped
        yield hub


def test_a_digest_runs_at_the_hubs_clock(fixed_hub: Hub) -> None:
    digests = fixed_hub.digests
    digests.subscribe("fixed@example.org", {"trending": "on", "frequency": "daily"})
    with fixed_hub._db.engine.connect() as connection:
        mail = connection.execute(select(outbox.c.raw, outbox.c.created_at)).one()
    assert mail.created_at == AS_OF
    confirmation = message_from_bytes(mail.raw, policy=default)
    assert parsedate_to_datetime(str(confirmation["Date"])) == AS_OF
    digests.add_confirmed("fixed@example.org", {"trending": "on", "frequency": "daily"})

    result = digests.send(ignore_hour=True)  # no as_of: the hub's clock decides
    assert result.planned == 1 and result.report.sent == 1
    with fixed_hub._db.engine.connect() as connection:
        run = connection.execute(select(digest_runs)).one()
        assert (run.started_at, run.as_of, run.finished_at) == (AS_OF, AS_OF, AS_OF)
        assert connection.scalar(select(digest_sends.c.updated_at)) == AS_OF
        row = connection.execute(select(subscribers)).one()
        assert (row.created_at, row.confirmed_at, row.updated_at) == (AS_OF, AS_OF, AS_OF)
        sent = connection.execute(select(outbox.c.created_at).order_by(outbox.c.pk)).all()
    assert [r.created_at for r in sent] == [AS_OF, AS_OF]

    with fixed_hub._db.engine.connect() as connection:
        message_id = connection.scalar(select(digest_sends.c.message_id))
    # The DSN names the digest in In-Reply-To (no returned headers): still matched.
    report = digests.bounce_message(b"In-Reply-To: " + message_id.encode() + b"\n" + DSN)
    assert report.suppressed == ["fixed@example.org"]
    with fixed_hub._db.engine.connect() as connection:
        assert connection.scalar(select(bounces.c.received_at)) == AS_OF
        assert connection.scalar(select(suppressions.c.created_at)) == AS_OF
