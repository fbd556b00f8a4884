"""The background jobs: Huey tasks that call the hub's use cases (docs/jobs.md).

=============  ===========================================  ================================
job            what it calls                                when
=============  ===========================================  ================================
tick           ``hub.sources.due()``: one ``ingest`` each    every minute
ingest         ``jobs.sources.run_source`` (ingest.py)       from tick; then embed
embed          ``hub.search.embed()``                        after an import or enrichment,
                                                             and every 10 minutes
infer          ``hub.upkeep.infer_categories()``             after embed stored vectors
enrich         ``hub.upkeep.enrich()`` (+ inference)         hourly; then embed
stars          ``hub.upkeep.refresh_stars()``                hourly; then trending
trending       ``hub.reading.precompute_trending()``         after imports, stars, every 15 min,
                                                             and ``trending_debounce_s`` after a
                                                             vote (``trending_soon``)
digests        ``hub.digests.send()`` (lease, send log)      every 5 minutes
housekeeping   ``hub.community.housekeeping()``              hourly
=============  ===========================================  ================================

Each job is safe to run twice at once: it holds Huey's task lock of its name (with a lease
of ``job_lease_s`` that it renews while it runs, ``locks.py``), and a second run that finds
the lock held returns at once; and the use cases behind it claim their work in the database
(sources, enrichment, stars, the digests' lease), so even two holders never do the same
work twice. A job that raises is
retried by Huey with a growing delay; every finished run is counted in ``hub.job_runs``.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from huey import crontab

from ..clock import Clock, utcnow
from ..config import Config
from ..hub import Hub, open_hub
from ..model import Check
from ..search import Embedder
from .locks import LeasedLock, TaskLockedException, heartbeat
from .queue import describe, make_queue
from .sources import run_source

log = logging.getLogger("paperroute.jobs")

T = TypeVar("T")
JOB_NAMES = ("ingest", "embed", "infer", "enrich", "stars", "trending", "digests", "housekeeping")
RETRIES = {"retries": 3, "retry_delay": 30, "retry_backoff": 2.0}


@dataclass(frozen=True, slots=True)
class Tasks:
    """The Huey task wrappers: calling one enqueues it (``tasks.embed()``)."""

    tick: Any
    ingest: Any
    embed: Any
    infer: Any
    enrich: Any
    stars: Any
    trending: Any
    trending_soon: Any
    digests: Any
    housekeeping: Any


class Jobs:
    """One process's view of the background jobs: the queue (``huey``), its tasks, and the
    hub they run against, opened on first need (``hub`` given: that one, e.g. the web app's).
    Thread-safe: the consumer's worker threads share it."""

    def __init__(
        self,
        config: Config,
        *,
        hub: Hub | None = None,
        embedder: Embedder | None = None,
        clock: Clock = utcnow,
        huey: Any = None,
    ) -> None:
        self.config = config
        self.huey = huey if huey is not None else make_queue(config)
        self._hub = hub
        self._owns_hub = hub is None
        self._embedder = embedder
        self._clock = clock
        self._lock = threading.Lock()
        self.worker_id = secrets.token_hex(6)
        self.locks = {name: LeasedLock(self.huey, name, config.job_lease_s) for name in JOB_NAMES}
        # Held from a vote's request until its trending run starts: one pending at a time.
        lease = config.trending_debounce_s + config.job_lease_s
        self.trending_asked = LeasedLock(self.huey, "trending-soon", lease)
        self.tasks = _define(self)

    def hub(self) -> Hub:
        with self._lock:
            if self._hub is None:
                self._hub = open_hub(self.config, self._embedder, clock=self._clock)
            return self._hub

    def close(self) -> None:
        with self._lock:
            if self._hub is not None and self._owns_hub:
                self._hub.close()
                self._hub = None
        storage_close = getattr(self.huey.storage, "close", None)
        if storage_close is not None:
            storage_close()

    def pending(self) -> int:
        """Tasks waiting in the queue (``/metrics``)."""
        return int(self.huey.pending_count())

    def check(self) -> Check:
        """Readiness: the queue answers (``/readyz``). The reason is logged, not shown."""
        try:
            self.pending()
        except Exception as exc:  # any storage's driver error: the queue is unreachable
            log.warning("readiness: the job queue (%s) does not answer: %s", self.where(), exc)
            return Check(False, "unreachable")
        return Check(True, "reachable")

    def catch_up(self) -> None:
        """Enqueue the jobs a worker that starts should not leave to their next period:
        embedding what came while none ran, trending, due digests."""
        self.tasks.embed()
        self.tasks.trending()
        self.tasks.digests()

    def trending_soon(self) -> bool:
        """Ask for trending to be precomputed ``trending_debounce_s`` from now (after a
        vote), unless such a run is pending already: the votes until it starts share it.
        True when this call enqueued it. Raises whatever the queue's driver raises."""
        try:
            self.trending_asked.acquire()
        except TaskLockedException:
            return False
        try:
            self.tasks.trending_soon.schedule(delay=self.config.trending_debounce_s)
        except BaseException:
            self.trending_asked.release()
            raise
        return True

    def where(self) -> str:
        return describe(self.config)

    def run(self, job: str, work: Callable[[Hub], T]) -> T | None:
        """Run ``work`` as the job ``job``: under its lock (None, at once, when another run
        holds it), timed and counted in ``hub.job_runs``; an exception is counted and
        raised again (Huey retries the task)."""
        try:
            self.locks[job].acquire()
        except TaskLockedException:
            log.info("job %s is running elsewhere; this run does nothing", job)
            return None
        started = time.monotonic()
        try:
            hub = self.hub()
            try:
                with heartbeat(self.locks[job].renew, self.config.job_lease_s / 3):
                    result = work(hub)
            except Exception as exc:
                _record(hub, job, time.monotonic() - started, f"{type(exc).__name__}: {exc}")
                raise  # Huey logs it and retries the task
            _record(hub, job, time.monotonic() - started, None)
            return result
        finally:
            self.locks[job].release()


def _record(hub: Hub, job: str, seconds: float, error: str | None) -> None:
    try:
        hub.job_runs.record(job, seconds=seconds, error=error)
    except Exception:  # the database is down: the job's own outcome matters more
        log.exception("could not record a run of job %s", job)


def _define(jobs: Jobs) -> Tasks:
    """Register the tasks on ``jobs.huey`` (each process that enqueues or consumes does the
    same, so the names match)."""
    huey = jobs.huey

    def _tick() -> int:
        """Enqueue one ingest per due source."""
        due = jobs.hub().sources.due()
        for name in due:
            ingest(name)
        return len(due)

    tick = huey.periodic_task(crontab(minute="*"), name="paperroute.tick")(_tick)

    def _ingest(name: str) -> dict[str, Any] | None:
        def work(hub: Hub) -> dict[str, Any]:
            run = run_source(hub, name, token=jobs.worker_id)
            if run.added or run.updated:
                embed()  # then infer and trending, once the vectors are stored
                trending()
            return {"added": run.added, "updated": run.updated, "error": run.error}

        return jobs.run("ingest", work)

    ingest = huey.task(name="paperroute.ingest", **RETRIES)(_ingest)

    def _embed() -> int | None:
        def work(hub: Hub) -> int:
            # As `paperroute embed`: the term bags similar papers rank by, then the vectors.
            hub.search.store_term_bags()
            done = hub.search.embed()
            if done:
                infer()
            return done

        return jobs.run("embed", work)

    embed = huey.task(name="paperroute.embed", **RETRIES)(_embed)
    huey.periodic_task(crontab(minute="*/10"), name="paperroute.embed.periodic")(_embed)

    def _infer() -> int | None:
        return jobs.run("infer", lambda hub: hub.upkeep.infer_categories().inferred)

    infer = huey.task(name="paperroute.infer", **RETRIES)(_infer)

    def _enrich() -> int | None:
        def work(hub: Hub) -> int:
            report = hub.upkeep.enrich()
            if report.enriched:
                embed()
            return report.enriched

        return jobs.run("enrich", work)

    enrich = huey.periodic_task(crontab(minute="7"), name="paperroute.enrich", **RETRIES)(_enrich)

    def _stars() -> int | None:
        def work(hub: Hub) -> int:
            report = hub.upkeep.refresh_stars()
            if report.changed:
                trending()
            return report.changed

        return jobs.run("stars", work)

    stars = huey.periodic_task(crontab(minute="17"), name="paperroute.stars", **RETRIES)(_stars)

    def _trending() -> dict[str, int] | None:
        return jobs.run("trending", lambda hub: hub.reading.precompute_trending())

    trending = huey.task(name="paperroute.trending", **RETRIES)(_trending)
    huey.periodic_task(crontab(minute="*/15"), name="paperroute.trending.periodic")(_trending)

    def _trending_soon() -> dict[str, int] | None:
        jobs.trending_asked.release()  # a vote from now on asks for a run of its own
        counts = _trending()
        if counts is None:
            # Another run held the lock; it may have read the votes before the last one.
            jobs.trending_soon()
        return counts

    trending_soon = huey.task(name="paperroute.trending.soon", **RETRIES)(_trending_soon)

    def _digests() -> int | None:
        if not (jobs.config.smtp_url or jobs.config.demo):
            return None  # no mail configured: nothing to send, nothing to report

        def work(hub: Hub) -> int:
            result = hub.digests.send()
            if result.report.stopped:
                raise RuntimeError(f"digest run stopped: {result.report.stopped}")
            return result.report.sent

        return jobs.run("digests", work)

    digests = huey.periodic_task(crontab(minute="*/5"), name="paperroute.digests", **RETRIES)(
        _digests
    )

    def _housekeeping() -> dict[str, int] | None:
        return jobs.run("housekeeping", lambda hub: hub.community.housekeeping())

    housekeeping = huey.periodic_task(
        crontab(minute="43"), name="paperroute.housekeeping", **RETRIES
    )(_housekeeping)

    return Tasks(
        tick, ingest, embed, infer, enrich, stars, trending, trending_soon, digests, housekeeping
    )
