"""With several workers, a period's jobs are enqueued once (issue 11): every worker's
scheduler looks at the periodic tasks each minute, and only the first to claim the minute in
the queue's storage enqueues them. Two workers' schedulers on one queue (SqliteHuey beside
SQLite, Huey's tables in PostgreSQL), driven through the same minutes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest

from paperroute import Config
from paperroute.jobs import Jobs, consumer
from paperroute.jobs.worker import KEPT_MINUTES, OnePerMinuteScheduler, periodic_key
from support.embedders import HashEmbedder

# Minute 0 of an hour: tick (every minute), embed (*/10), trending (*/15), digests (*/5).
ON_THE_HOUR = dt.datetime(2026, 12, 6, 10, 0, 12)
DUE_ON_THE_HOUR = {
    "paperroute.tick",
    "paperroute.embed.periodic",
    "paperroute.trending.periodic",
    "paperroute.digests",
}


@pytest.fixture
def two_workers(database_url: str) -> Iterator[tuple[Jobs, Jobs]]:
    config = Config(database_url=database_url, smtp_url="outbox")
    first = Jobs(config, embedder=HashEmbedder())
    second = Jobs(config, embedder=HashEmbedder())  # another process's view of the queue
    first.huey.flush()
    yield first, second
    first.huey.flush()
    second.close()
    first.close()


def _enqueued(jobs: Jobs) -> Counter[str]:
    return Counter(task.name for task in jobs.huey.pending())


def test_each_minute_the_periodic_jobs_are_enqueued_by_one_worker_only(
    two_workers: tuple[Jobs, Jobs],
) -> None:
    schedulers = [consumer(jobs, 1, embedded=True)._create_scheduler() for jobs in two_workers]
    assert all(isinstance(s, OnePerMinuteScheduler) for s in schedulers)
    first = two_workers[0]
    for scheduler in schedulers:
        scheduler.enqueue_periodic_tasks(ON_THE_HOUR)
    assert _enqueued(first) == Counter(DUE_ON_THE_HOUR)  # once each, not twice
    # Later in the same minute (a scheduler whose minute began later): nothing more.
    schedulers[0].enqueue_periodic_tasks(ON_THE_HOUR + dt.timedelta(seconds=40))
    assert _enqueued(first) == Counter(DUE_ON_THE_HOUR)
    # The next minute: the tick again, once, whichever worker looks first.
    for scheduler in reversed(schedulers):
        scheduler.enqueue_periodic_tasks(ON_THE_HOUR + dt.timedelta(minutes=1))
    assert _enqueued(first)["paperroute.tick"] == 2
    assert sum(_enqueued(first).values()) == len(DUE_ON_THE_HOUR) + 1


def test_old_claims_are_deleted(two_workers: tuple[Jobs, Jobs]) -> None:
    first, _ = two_workers
    scheduler = consumer(first, 1, embedded=True)._create_scheduler()
    minute = ON_THE_HOUR.replace(second=0)
    scheduler.enqueue_periodic_tasks(minute)
    later = minute + dt.timedelta(minutes=KEPT_MINUTES)
    scheduler.enqueue_periodic_tasks(later)
    assert first.huey.get(periodic_key(minute), peek=True) is None
    assert first.huey.get(periodic_key(later), peek=True) is not None
