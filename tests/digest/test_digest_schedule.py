"""Who is due when: each subscriber at their hour in their time zone, once per slot, and the
scheduler loop that sends them."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import delete, func, insert, select, update

from paperroute import Hub
from paperroute.digest import Digests, SenderBusy
from paperroute.digest._plan import due_subscribers
from paperroute.store.schema_digests import digest_lease, subscribers
from paperroute.store.schema_mail import outbox


def _add(hub: Hub, email: str, **prefs: str) -> None:
    hub.digests.add_confirmed(email, {"trending": "on", **prefs})


def test_each_subscriber_at_their_hour_in_their_zone(papers_hub: Hub) -> None:
    _add(
        papers_hub, "berlin@example.org", frequency="daily", send_hour="7", timezone="Europe/Berlin"
    )
    _add(papers_hub, "tokyo@example.org", frequency="daily", send_hour="7", timezone="Asia/Tokyo")
    _add(
        papers_hub, "ny@example.org", frequency="daily", send_hour="7", timezone="America/New_York"
    )
    _add(papers_hub, "weekly@example.org", frequency="weekly", weekday="4", send_hour="9")
    with papers_hub._db.engine.begin() as connection:  # confirmed long before these slots
        connection.execute(
            update(subscribers).values(confirmed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        )

    def due(at: dt.datetime) -> dict[str, str]:
        with papers_hub._db.engine.connect() as connection:
            return {s.email: period for s, period in due_subscribers(connection, at)}

    # Thursday 2026-08-20, 05:30 UTC: 07:30 in Berlin, 14:30 in Tokyo, 01:30 in New York.
    thursday = due(dt.datetime(2026, 8, 20, 5, 30, tzinfo=dt.UTC))
    assert thursday["berlin@example.org"] == "2026-08-20"
    assert thursday["tokyo@example.org"] == "2026-08-20"
    assert thursday["ny@example.org"] == "2026-08-19"  # yesterday's slot, never sent
    assert thursday["weekly@example.org"] == "2026-08-14"  # last Friday's
    # 04:30 UTC: Berlin's 07:00 has not come yet.
    assert due(dt.datetime(2026, 8, 20, 4, 30, tzinfo=dt.UTC))["berlin@example.org"] == (
        "2026-08-19"
    )


def test_a_new_subscriber_waits_for_the_next_slot(papers_hub: Hub) -> None:
    _add(papers_hub, "new@example.org", frequency="daily", send_hour="0")
    now = dt.datetime.now(dt.UTC)
    with papers_hub._db.engine.connect() as connection:
        assert due_subscribers(connection, now) == []  # confirmed after today's 00:00
        assert len(due_subscribers(connection, now, ignore_hour=True)) == 1


def test_the_scheduler_loop_sends_due_digests(papers_hub: Hub, digests: Digests) -> None:
    _add(papers_hub, "loop@example.org", frequency="daily", send_hour="0")
    with papers_hub._db.engine.begin() as connection:
        connection.execute(
            update(subscribers).values(confirmed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        )
    stop = threading.Event()
    worker = threading.Thread(target=digests.run_scheduler, args=(stop,), kwargs={"interval": 1})
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            with papers_hub._db.engine.connect() as connection:
                sent = connection.scalar(select(func.count()).select_from(outbox))
            if sent:
                break
            assert time.monotonic() < deadline, "the scheduler sent nothing"
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=20)
    assert not worker.is_alive()
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(outbox)) == 1  # once


def _hold(hub: Hub, holder: str, seconds: float) -> None:
    with hub._db.engine.begin() as connection:
        connection.execute(
            insert(digest_lease).values(
                name="send",
                holder=holder,
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds),
            )
        )


def test_one_sender_at_a_time(papers_hub: Hub, digests: Digests) -> None:
    _add(papers_hub, "lease@example.org")
    here = socket.gethostname()
    _hold(papers_hub, f"{here}:{os.getppid()}:alive", 60)  # a live process on this host
    with pytest.raises(SenderBusy, match="another `paperroute digest send` is running"):
        digests.send(ignore_hour=True)
    assert digests.send(ignore_hour=True, dry_run=True).planned == 1  # a dry run needs none
    with papers_hub._db.engine.begin() as connection:
        connection.execute(delete(digest_lease))
    _hold(papers_hub, "elsewhere.example.org:1:x", 60)  # another host, not expired
    with pytest.raises(SenderBusy):
        digests.send(ignore_hour=True)
    with papers_hub._db.engine.begin() as connection:
        connection.execute(delete(digest_lease))
    _hold(papers_hub, "elsewhere.example.org:1:x", -1)  # another host, expired
    assert digests.send(ignore_hour=True).report.sent == 1
    with papers_hub._db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(digest_lease)) == 0


def test_a_dead_holder_on_this_host_is_taken_over_at_once(
    papers_hub: Hub, digests: Digests
) -> None:
    _add(papers_hub, "lease@example.org")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _hold(papers_hub, f"{socket.gethostname()}:{gone.pid}:dead", 600)
    assert digests.send(ignore_hour=True).report.sent == 1
