"""Consuming the queue: ``paperroute worker`` (a process of its own, any machine) and the
worker ``paperroute serve`` embeds on SQLite (threads inside the web server's process).

Both are Huey consumers with worker threads and the periodic scheduler on. The embedded one
installs no signal handlers (the web server owns them) and is stopped by the server's exit.

Each consumer's scheduler looks at the periodic tasks once a minute; with several workers,
only the first to claim the minute (a key in the queue's storage) enqueues them, so a period's
job is enqueued once however many workers run.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from huey.consumer import Consumer, Scheduler

from .tasks import Jobs

log = logging.getLogger("paperroute.jobs")


PERIODIC_KEY = "paperroute.periodic"
KEPT_MINUTES = 60  # claims of minutes older than this are deleted by a later claim


def periodic_key(minute: dt.datetime) -> str:
    return f"{PERIODIC_KEY}.{minute:%Y%m%dT%H%M}"


class OnePerMinuteScheduler(Scheduler):  # type: ignore[misc]  # huey ships no type information
    """Huey's scheduler, whose periodic pass enqueues only when this worker is the first of
    all to claim the minute (``put_if_empty``: one winner, on SQLite, PostgreSQL or Redis)."""

    def enqueue_periodic_tasks(self, now: dt.datetime | None) -> None:
        moment = now if now is not None else self.huey._get_timestamp()
        minute = moment.replace(second=0, microsecond=0)
        try:
            if not self.huey.put_if_empty(periodic_key(minute), "1"):
                log.debug("periodic tasks of %s: enqueued by another worker", minute)
                return
            self.huey.delete(periodic_key(minute - dt.timedelta(minutes=KEPT_MINUTES)))
        except Exception:  # the queue is away: enqueueing would fail as well
            log.exception("could not claim the periodic tasks of %s", minute)
            return
        super().enqueue_periodic_tasks(moment)


class _Consumer(Consumer):  # type: ignore[misc]  # huey ships no type information
    scheduler_class = OnePerMinuteScheduler


class _QuietConsumer(_Consumer):
    """A consumer that leaves the process's signal handlers alone."""

    def _set_signal_handlers(self) -> None:
        pass


def consumer(jobs: Jobs, concurrency: int, *, periodic: bool = True, embedded: bool = False) -> Any:
    """A Huey consumer of ``jobs``' queue with ``concurrency`` worker threads. The first
    poll comes fast and idle polls back off to two seconds (SQL storages poll)."""
    kind = _QuietConsumer if embedded else _Consumer
    return kind(
        jobs.huey,
        workers=concurrency,
        worker_type="thread",
        periodic=periodic,
        initial_delay=0.1,
        backoff=1.15,
        max_delay=2.0,
        check_worker_health=not embedded,
    )


def run_worker(jobs: Jobs, concurrency: int, *, periodic: bool = True) -> None:
    """Consume until SIGINT / SIGTERM (Huey's consumer loop: a graceful stop finishes the
    tasks in hand; the database claims make an abrupt one safe)."""
    log.warning(
        "paperroute worker %s: %d thread(s) on %s", jobs.worker_id, concurrency, jobs.where()
    )
    if periodic:
        jobs.catch_up()
    consumer(jobs, concurrency, periodic=periodic).run()


class EmbeddedWorker:
    """The consumer ``paperroute serve`` runs beside the web server on SQLite."""

    def __init__(self, jobs: Jobs, concurrency: int) -> None:
        self.jobs = jobs
        self._consumer = consumer(jobs, concurrency, embedded=True)
        self._stopped = threading.Event()

    def start(self) -> None:
        log.info("embedded job worker: %s", self.jobs.where())
        self.jobs.catch_up()
        self._consumer.start()

    def stop(self) -> None:
        """Let the tasks in hand finish (at most a few seconds), then close the hub."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._consumer.shutdown_timeout = 10.0
        self._consumer.stop(graceful=True)
        self.jobs.close()
