"""Consuming the queue: ``paperroute worker`` (a process of its own, any machine) and the
worker ``paperroute serve`` embeds on SQLite (threads inside the web server's process).

Both are Huey consumers with worker threads and the periodic scheduler on. The embedded one
installs no signal handlers (the web server owns them) and is stopped by the server's exit.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from huey.consumer import Consumer

from .tasks import Jobs

log = logging.getLogger("paperroute.jobs")


class _QuietConsumer(Consumer):  # type: ignore[misc]  # huey ships no type information
    """A consumer that leaves the process's signal handlers alone."""

    def _set_signal_handlers(self) -> None:
        pass


def consumer(jobs: Jobs, concurrency: int, *, periodic: bool = True, embedded: bool = False) -> Any:
    """A Huey consumer of ``jobs``' queue with ``concurrency`` worker threads. The first
    poll comes fast and idle polls back off to two seconds (SQL storages poll)."""
    kind = _QuietConsumer if embedded else Consumer
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
