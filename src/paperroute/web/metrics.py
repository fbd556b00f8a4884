"""What ``/metrics`` exports, in Prometheus' text format, from a registry this app owns.

- ``paperroute_http_requests_total{method,route,status}`` and
  ``paperroute_http_request_duration_seconds{method,route}``: per route *template*
  (``/papers/{paper_id:path}``), never per raw path, so that no client can grow the label set:
  a path no route matches counts as ``<unmatched>``, a page-cache hit as ``<page cache>``,
  static files as ``/static``, anything else unrouted (a refusal) as ``<other>``; a method
  outside the standard ones counts as ``OTHER``.
- read from the database at each scrape: ``paperroute_papers{source}``,
  ``paperroute_digest_sends{status}`` (rows of the digests' send log: ``sent``, ``failed``,
  ``deferred``...) and ``paperroute_database_up``.
- filled by whoever runs the jobs (the hooks ``Metrics.jobs`` and ``Metrics.queue``):
  ``paperroute_job_runs_total{job}``, ``paperroute_job_failures_total{job}``,
  ``paperroute_job_duration_seconds{job}`` (count and sum),
  ``paperroute_job_last_success_timestamp_seconds{job}``, ``paperroute_queue_pending`` and
  ``paperroute_queue_up``.

``paperroute serve --workers N`` runs N processes behind one socket, and a scrape reaches
one of them: with ``PROMETHEUS_MULTIPROC_DIR`` set (``serve`` sets it to a fresh folder for
N > 1) each process writes its request counts there and every scrape adds them all up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from ..errors import PaperrouteError
from ..hub import Hub

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: a cached page takes well under a millisecond, a cold search tens of them.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DIGEST_STATUSES = ("sent", "failed", "deferred")

_log = logging.getLogger("paperroute.metrics")


@dataclass(frozen=True, slots=True)
class JobTotals:
    """One kind of job's runs since the records began: what the job runner reports."""

    job: str  # the task's name: "ingest-oai", "embed", "digest-send"...
    runs: int  # finished runs, failed ones included
    failures: int
    seconds: float  # the finished runs' durations, summed
    last_success: float | None = None  # Unix time of the last run that succeeded


# The hooks. Each is called at every scrape, in a worker thread; an exception counts as
# "unreachable" (the queue) or leaves the job metrics out of that scrape.
JobsReport = Callable[[], Iterable[JobTotals]]
QueueReport = Callable[[], int]  # tasks waiting in the queue


class Metrics:
    """The app's metrics: the request counters it observes and what a scrape reads from the
    hub and the hooks. Thread-safe (prometheus-client's metrics are)."""

    def __init__(self, hub: Hub, *, multiprocess_dir: str | None = None) -> None:
        self.jobs: JobsReport | None = None
        self.queue: QueueReport | None = None
        live = CollectorRegistry()
        self._requests = Counter(
            "paperroute_http_requests",
            "HTTP requests answered, per method, route template and status.",
            ["method", "route", "status"],
            registry=live,
        )
        self._latency = Histogram(
            "paperroute_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, per route template.",
            ["method", "route"],
            registry=live,
            buckets=BUCKETS,
        )
        if multiprocess_dir:
            # Each process's counts live in files there; the scrape adds them up.
            self.registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
                self.registry, path=multiprocess_dir
            )
        else:
            self.registry = live
        self.registry.register(_HubCollector(hub, self))

        # (method, route, status) -> the two children, so that ``labels()`` (which validates
        # and locks) runs once per series, not per request. Bounded like the labels.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            shown = method if method in METHODS else "OTHER"
            children = (
                self._requests.labels(shown, route, str(status)),
                self._latency.labels(shown, route),
            )
            if method in METHODS:  # never a key per unknown method
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The exposition (blocking: it queries the database)."""
        return generate_latest(self.registry)


class _HubCollector(Collector):
    def __init__(self, hub: Hub, metrics: Metrics) -> None:
        self.hub = hub
        self.metrics = metrics

    def describe(self) -> Iterable[Metric]:
        return []  # collected at scrape time only (not at registration)

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        if self.metrics.jobs is not None:
            yield from _jobs(self.metrics.jobs)
        if self.metrics.queue is not None:
            yield from _queue(self.metrics.queue)

    def _database(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("paperroute_database_up", "1 when the database answered.")
        try:
            by_source = self.hub.papers.count_by_source()
            sends = self.hub.digests.send_counts()
        except PaperrouteError as exc:
            _log.warning("metrics: the database does not answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        papers = GaugeMetricFamily(
            "paperroute_papers", "Papers per source that supplied them.", labels=["source"]
        )
        for source, count in sorted(by_source.items()):
            papers.add_metric([source], count)
        yield papers
        digests = GaugeMetricFamily(
            "paperroute_digest_sends",
            "Digests in the send log per status (deferred ones become sent or failed).",
            labels=["status"],
        )
        for status in sorted({*DIGEST_STATUSES, *sends}):
            digests.add_metric([status], sends.get(status, 0))
        yield digests


def _jobs(report: JobsReport) -> Iterator[Metric]:
    try:
        totals = list(report())
    except Exception:  # a hook's failure must not fail the whole scrape
        _log.exception("metrics: the job report failed")
        return
    runs = CounterMetricFamily("paperroute_job_runs", "Finished job runs.", labels=["job"])
    failures = CounterMetricFamily(
        "paperroute_job_failures", "Job runs that failed.", labels=["job"]
    )
    durations = SummaryMetricFamily(
        "paperroute_job_duration_seconds", "Durations of finished job runs.", labels=["job"]
    )
    last = GaugeMetricFamily(
        "paperroute_job_last_success_timestamp_seconds",
        "Unix time of each job's last successful run.",
        labels=["job"],
    )
    for total in totals:
        runs.add_metric([total.job], total.runs)
        failures.add_metric([total.job], total.failures)
        durations.add_metric([total.job], count_value=total.runs, sum_value=total.seconds)
        if total.last_success is not None:
            last.add_metric([total.job], total.last_success)
    yield from (runs, failures, durations, last)


def _queue(report: QueueReport) -> Iterator[Metric]:
    up = GaugeMetricFamily("paperroute_queue_up", "1 when the task queue answered.")
    try:
        pending = report()
    except Exception:
        _log.exception("metrics: the task queue does not answer")
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    depth = GaugeMetricFamily("paperroute_queue_pending", "Tasks waiting in the queue.")
    depth.add_metric([], pending)
    yield depth
