"""Running one scheduled source: claim it, fetch through the importers of ``ingest.py``
(their checkpoints included), record what it added or why it failed.

A failure to reach the source (a network error, HTTP 5xx, an unreadable answer) is no crash:
the run records it and the source goes "offline" until its back-off ends
(``upkeep/schedule.py``). Records a source sends that cannot be used are skipped one by one,
as every import does, and do not make the source offline.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from ..errors import PaperrouteError, SourceError
from ..hub import Hub
from ..ingest import (
    arxiv_client,
    fetch_feed,
    harvest_oai,
    hf_client,
    ingest_arxiv_api,
    ingest_feed,
    ingest_hf_days,
)
from ..model import IngestReport, PaperRecord, ParseItem
from ..upkeep.sources import Claim, Source, SourceRun
from .locks import heartbeat

log = logging.getLogger("paperroute.jobs")

MAX_SKIPPED_SHOWN = 3


def run_source(hub: Hub, name: str, *, force: bool = False, token: str | None = None) -> SourceRun:
    """Run the source ``name`` when it is due (``force``: now, whatever its schedule) and
    no other run holds it. Raises NotFound; never raises for the source's own failures."""
    claim = hub.sources.claim(name, token or secrets.token_hex(8), force=force)
    if claim is None:
        return SourceRun(name)
    return _run_claimed(hub, claim)


def _run_claimed(hub: Hub, claim: Claim) -> SourceRun:
    run = SourceRun(claim.source.name, ran=True)
    error: str | None = None
    every = hub.sources.lease.total_seconds() / 3
    try:
        with heartbeat(lambda: hub.sources.renew(claim), every):
            report, error = _fetch(hub, claim.source)
    except SourceError as exc:
        report, error = IngestReport(), str(exc)
    except PaperrouteError as exc:  # the database refused: the next run tries again
        report, error = IngestReport(), f"{type(exc).__name__}: {exc}"
    run.added, run.updated, run.notices = report.inserted, report.updated, report.notices
    if error is None and report.skipped:
        shown = "; ".join(str(s) for s in report.skipped[:MAX_SKIPPED_SHOWN])
        run.notices.append(f"{len(report.skipped)} record(s) skipped: {shown}")
    run.error = error
    run.next_run_at = hub.sources.finish(claim, added=report.inserted, error=error)
    if error:
        log.warning(
            "source %s is offline until %s: %s", run.name, f"{run.next_run_at:%H:%M}Z", error
        )
    return run


def _whole_failure(report: IngestReport, source: str, document: str) -> str | None:
    """The error of a whole request the importer recorded as a skipped document."""
    for skipped in report.skipped:
        if skipped.source == source and skipped.source_key == document:
            return skipped.reason
    return None


def _fetch(hub: Hub, source: Source) -> tuple[IngestReport, str | None]:
    config = hub.config
    parameters = source.parameters
    if source.kind == "hf-daily":
        today = hub.sources.clock().date()
        start = today - dt.timedelta(days=int(parameters.get("days_back", 1)))
        with hf_client(config) as client:
            report = ingest_hf_days(hub, client, start, today)
        failed = [s for s in report.skipped if s.source == "hf-daily" and _is_day(s.source_key)]
        # A day Hugging Face has not published yet answers an empty list, not an error: a
        # day that failed is the source unreachable (the days that worked are stored, and
        # the next try asks for them again, unchanged).
        if failed:
            return report, f"{failed[-1].source_key}: {failed[-1].reason}"
        return report, None
    if source.kind == "oai":
        keep = _categories_filter(list(parameters.get("categories", [])))
        with arxiv_client(config) as client:
            report = harvest_oai(
                hub,
                client,
                base_url=config.oai_url,
                set_spec=str(parameters["set"]),
                keep=keep,
            )
        return report, _whole_failure(report, "arxiv-oai", config.oai_url)
    if source.kind == "rss":
        url = str(parameters["url"])
        batch = fetch_feed(config, url)  # SourceError: unreachable
        report = ingest_feed(hub, batch, feed_key=url)
        return report, None
    if source.kind == "arxiv-api":
        query = str(parameters["query"])
        with arxiv_client(config) as client:
            report = ingest_arxiv_api(
                hub,
                client,
                query=query,
                max_results=int(parameters.get("max_results", 100)),
            )
        return report, _whole_failure(report, "arxiv-api", query)
    return IngestReport(), f"unknown source kind {source.kind!r}"


def _is_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _categories_filter(categories: list[str]) -> Callable[[ParseItem], bool] | None:
    """Keep a record with one of ``categories`` (or a whole archive's, "cs" for cs.*)."""
    if not categories:
        return None
    wanted = frozenset(categories)

    def keep(item: ParseItem) -> bool:
        if not isinstance(item, PaperRecord):
            return True  # errors are reported, never filtered away
        return any(c in wanted or c.split(".")[0] in wanted for c in item.categories)

    return keep


def describe_run(run: SourceRun) -> dict[str, Any]:
    return {
        "source": run.name,
        "ran": run.ran,
        "added": run.added,
        "updated": run.updated,
        "error": run.error,
        "next_run_at": run.next_run_at.isoformat() if run.next_run_at else None,
        "notices": run.notices,
    }
