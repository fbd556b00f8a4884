"""A worker killed with SIGKILL in the middle of the digests job (issue 11): two
`paperroute worker` processes on one database and its queue (SqliteHuey beside SQLite, Huey's
tables in PostgreSQL), a real SMTP server on 127.0.0.1. The worker holding the send lease
is killed after a few messages; the digests job, enqueued again, is taken over by the other
worker once the job's lock lapses (``job_lease_s``) and the send lease is let go (its
holder's process is gone on this machine; on another machine, after ``digest_lease_s``),
and it finishes the run: every subscriber's mailbox shows exactly one digest (by
Message-ID), and the only repeat the SMTP server may see is the one message in flight at the
kill, byte for byte the same (docs/digests.md)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from paperroute import open_hub
from paperroute.digest import SenderBusy
from paperroute.digest._lease import SendLease
from paperroute.jobs import Jobs
from paperroute.store.schema_digests import digest_lease, subscribers
from support.digest_data import SECRET, make_config, paper_records
from support.served import stop_all, wait_until
from support.smtp import SmtpServer

SUBSCRIBERS = 24
RATE_PER_S = 4  # a run of SUBSCRIBERS messages takes seconds: time to kill it halfway
KILL_AFTER = 5  # messages accepted
LEASE_S = 3
DEADLINE_S = 90.0
LONG_AGO = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
DAILY = {"frequency": "daily", "send_hour": 0, "timezone": "UTC", "trending": "on"}


def _env(database_url: str, smtp_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": database_url,
        "PAPERROUTE_SECRET_KEY": SECRET,
        "PAPERROUTE_SMTP_URL": smtp_url,
        "PAPERROUTE_BASE_URL": "https://papers.example.org",
        "PAPERROUTE_MAIL_FROM": "paperroute <digest@papers.example.org>",
        "PAPERROUTE_DIGEST_RATE_PER_S": str(RATE_PER_S),
        "PAPERROUTE_DIGEST_POOL_SIZE": "1",
        "PAPERROUTE_DIGEST_RETRY_BASE_S": "0.05",
        "PAPERROUTE_DIGEST_SEND_EMPTY": "1",  # the recorded papers are months old
        "PAPERROUTE_JOB_LEASE_S": str(LEASE_S),
        "PAPERROUTE_DIGEST_LEASE_S": str(LEASE_S),
    }
    for inherited in ("PAPERROUTE_CONFIG", "PROMETHEUS_MULTIPROC_DIR", "PAPERROUTE_DEMO"):
        env.pop(inherited, None)
    return env


def _lease_pid(hub: object) -> int | None:
    """The process holding the digests' send lease (its holder is ``host:pid:nonce``)."""
    db = hub._db  # type: ignore[attr-defined]
    with db.read() as connection:
        holder = connection.scalar(select(digest_lease.c.holder))
    match = re.fullmatch(r"[^:]*:(\d+):\w+", holder or "")
    return int(match.group(1)) if match else None


def _wait(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, DEADLINE_S)


@pytest.mark.slow
def test_a_worker_killed_mid_digest_run_leaves_everyone_mailed_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    emails = [f"kill{n:03d}@example.org" for n in range(SUBSCRIBERS)]
    config = make_config(database_url)
    with open_hub(config) as hub:
        assert not hub.papers.ingest(paper_records()).skipped
        for email in emails:
            hub.digests.add_confirmed(email, DAILY)
        with hub._db.write() as connection:  # confirmed before today's slot: due today
            connection.execute(update(subscribers).values(confirmed_at=LONG_AGO))
    jobs = Jobs(config)
    jobs.huey.flush()
    workers: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"worker{n}.log" for n in range(2)]
    with SmtpServer() as smtp:
        env = _env(database_url, smtp.url)
        try:
            for log in logs:
                with log.open("wb") as out:
                    command = [sys.executable, "-m", "paperroute", "worker"]
                    command += ["--concurrency", "1", "--no-periodic"]
                    workers.append(subprocess.Popen(command, env=env, stdout=out, stderr=out))
            _wait(
                lambda: all("paperroute worker" in log.read_text("utf-8") for log in logs),
                "both workers to start",
            )
            with open_hub(config) as hub:
                jobs.tasks.digests()
                _wait(
                    lambda: len(smtp.messages) >= KILL_AFTER and _lease_pid(hub) is not None,
                    "the digest run to be under way",
                )
                pid = _lease_pid(hub)
                (victim,) = [w for w in workers if w.pid == pid]
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=10)
                at_kill = len(smtp.messages)
                assert at_kill < SUBSCRIBERS, "the run ended before the kill: nothing tested"

                # The next period's digests job, enqueued until a worker has finished the run.
                asked = [0.0]

                def finished() -> bool:
                    if time.monotonic() - asked[0] > 1.0:
                        jobs.tasks.digests()
                        asked[0] = time.monotonic()
                    return hub.digests.send_counts().get("sent", 0) == SUBSCRIBERS

                _wait(finished, "the other worker to finish the run")
                (survivor,) = [w for w in workers if w is not victim]
                assert survivor.poll() is None
                _wait(lambda: _lease_pid(hub) is None, "the send lease to be let go")
                assert hub.digests.send_counts() == {"sent": SUBSCRIBERS}
            mailbox = smtp.mailbox()
            counts = smtp.recipients()
            transactions = list(smtp.messages)
        finally:
            stop_all(workers, timeout=30)
            jobs.huey.flush()
            jobs.close()
    assert sorted(mailbox) == emails  # nobody skipped
    assert all(len(shown) == 1 for shown in mailbox.values()), mailbox  # one Message-ID each
    repeated = {email: n for email, n in counts.items() if n > 1}
    for email in repeated:  # the one in flight at the kill: the same message again
        same = {(t.message_id, t.data) for t in transactions if email in t.recipients}
        assert len(same) == 1, email
    assert sum(n - 1 for n in repeated.values()) <= 1, repeated  # one connection, one kill


def test_the_send_lease_of_a_dead_sender_elsewhere_lapses_after_digest_lease_s(
    tmp_path: Path,
) -> None:
    """A sender on another machine (its process cannot be checked from here) holds the
    lease for ``digest_lease_s``, renewed while it lives; after that it is taken over."""
    now = [dt.datetime(2026, 8, 22, 9, 0, tzinfo=dt.UTC)]
    config = make_config(f"sqlite:///{tmp_path / 'hub.db'}", digest_lease_s=5.0)
    with open_hub(config) as hub:
        elsewhere = SendLease(hub._db, clock=lambda: now[0], lease_s=config.digest_lease_s)
        elsewhere.holder = "elsewhere.example.org:1:dead"
        elsewhere.acquire()  # then it dies: no renewal, no release
        here = SendLease(hub._db, clock=lambda: now[0], lease_s=config.digest_lease_s)
        now[0] += dt.timedelta(seconds=4)
        with pytest.raises(SenderBusy):
            here.acquire()
        now[0] += dt.timedelta(seconds=2)
        here.acquire()
        assert _lease_pid(hub) == os.getpid()
        here.release()
