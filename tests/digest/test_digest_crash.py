"""Crash test: a `paperroute digest send` process mailing thousands of subscribers is killed
with SIGKILL at random points, several times, then run to completion. Every subscriber must
end up with exactly one digest in their mailbox and nobody with two different digests.

What the recorded SMTP transactions may show, and why (docs/digests.md): a message whose
final dot was written just before the kill may have been accepted without the sender
hearing of it (RFC 1047). The resumed run sends that one message again, byte for byte the
same with the same Message-ID, so the mailbox (which collapses equal Message-IDs, as Gmail,
Cyrus and Sieve's duplicate test do) shows it once. At most one such message per
connection per kill; the test asserts that bound.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from paperroute import open_hub
from paperroute.digest._subscriptions import _prefs_columns
from paperroute.digest.model import preferences
from paperroute.store.schema_digests import digest_sends, subscribers
from support.digest_data import AS_OF, SECRET, make_config, paper_records
from support.smtp import SmtpServer

SUBSCRIBERS = 2000
POOL = 4
KILLS = 4
CHOICES = [
    {"trending": "on", "max_papers": "5"},
    {"trending": "off", "categories": "cs.CL"},
    {"trending": "on", "keywords": ["agents", '"language model*"']},
    {"trending": "off", "categories": "cs.CV, cs.AI", "max_papers": "8"},
]


def _populate(database_url: str) -> list[str]:
    now = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    emails = [f"crash{n:05d}@example.org" for n in range(SUBSCRIBERS)]
    with open_hub(make_config(database_url)) as hub:
        assert not hub.papers.ingest(paper_records()).skipped
        rows = [
            {
                "email": email,
                "status": "confirmed",
                "token_version": 1,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
                **_prefs_columns(preferences(CHOICES[n % len(CHOICES)])),
            }
            for n, email in enumerate(emails)
        ]
        with hub._db.engine.begin() as connection:
            connection.execute(insert(subscribers), rows)
    return emails


def _sender(database_url: str, smtp_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": database_url,
        "PAPERROUTE_SECRET_KEY": SECRET,
        "PAPERROUTE_SMTP_URL": smtp_url,
        "PAPERROUTE_BASE_URL": "https://papers.example.org",
        "PAPERROUTE_MAIL_FROM": "paperroute <digest@papers.example.org>",
        "PAPERROUTE_DIGEST_RATE_PER_S": "0",
        "PAPERROUTE_DIGEST_POOL_SIZE": str(POOL),
        "PAPERROUTE_DIGEST_RETRY_BASE_S": "0.05",
    }
    env.pop("PAPERROUTE_CONFIG", None)
    command = [sys.executable, "-m", "paperroute", "digest", "send", "--now"]
    command += ["--at", AS_OF.isoformat()]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path.cwd()
    )


@pytest.mark.slow
def test_killed_runs_resume_with_everyone_mailed_exactly_once(database_url: str) -> None:
    emails = _populate(database_url)
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    kills = 0
    with SmtpServer() as smtp:
        # First kill at a random moment early on (planning or the first messages), the
        # others when a random number of further messages has been accepted.
        thresholds = sorted(rng.sample(range(100, SUBSCRIBERS - 200), KILLS - 1))
        process = _sender(database_url, smtp.url)
        time.sleep(rng.uniform(0.2, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        for threshold in thresholds:
            process = _sender(database_url, smtp.url)
            deadline = time.monotonic() + 120
            while len(smtp.messages) < threshold and process.poll() is None:
                assert time.monotonic() < deadline, "the sender made no progress"
                time.sleep(0.002)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
        final = _sender(database_url, smtp.url)
        out, err = final.communicate(timeout=300)
        assert final.returncode == 0, (out + err).decode()

        mailbox = smtp.mailbox()
        counts = smtp.recipients()
        transactions = list(smtp.messages)

    context = f"seed {seed}, {kills} kills"
    # Nobody skipped, nobody with two digests in their mailbox.
    assert sorted(mailbox) == emails, context
    assert all(len(shown) == 1 for shown in mailbox.values()), context
    # Any repeated transaction is the same message (same Message-ID, same bytes) and only
    # the in-flight ones can repeat: at most one per connection per kill.
    repeated = {email: n for email, n in counts.items() if n > 1}
    for email in repeated:
        same = {(t.message_id, t.data) for t in transactions if email in t.recipients}
        assert len(same) == 1, (email, context)
    assert sum(n - 1 for n in repeated.values()) <= kills * POOL, (repeated, context)
    # The send log agrees: one sent row per subscriber.
    with open_hub(make_config(database_url)) as hub, hub._db.engine.connect() as connection:
        statuses = dict(
            connection.execute(
                select(digest_sends.c.status, func.count()).group_by(digest_sends.c.status)
            ).all()
        )
    assert statuses == {"sent": SUBSCRIBERS}, (statuses, context)
    print(f"crash test: {context}; repeated transactions {len(repeated)}")
