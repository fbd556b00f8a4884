"""``hub.upkeep``: the use cases the hub's periodic jobs run (and an operator by hand):
completing papers from the arXiv API, inferring categories from neighbouring papers, and
refreshing code repositories' stars from GitHub. Each is idempotent and safe to run twice at
once (two processes): work is claimed row by row, so two runs share it out rather than
both doing it, and what a run writes it writes whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import SourceError, StorageError
from ..model import PaperRecord, RecordError
from ..papers import Papers
from ..search import Searcher
from ..sources import arxiv_api
from ..sources.http import HttpClient
from ..store.session import Database
from ..store.state import get_state, put_state
from . import _queries as q
from . import _stars
from .infer import Accuracy, Inferred, holdout, infer

log = logging.getLogger(__name__)

CLAIM = dt.timedelta(minutes=30)  # a run that died lets go of its papers after this long
WRITE_TRIES = 3


@dataclass(slots=True)
class InferReport:
    """``infer_categories``: papers without categories of their own that have a vector
    (considered), those given at least one inferred category (inferred), and inferred
    categories dropped because their paper now has its own (cleared)."""

    considered: int = 0
    inferred: int = 0
    cleared: int = 0


@dataclass(slots=True)
class EnrichReport:
    """``enrich``: papers asked of arXiv (requested), completed (enriched), unknown to arXiv,
    failed (an HTTP error or an unreadable answer: tried again later), the requests made,
    why the run stopped early (None when it ran out of work or reached its limit), each
    error, the inference that followed, and the seconds spent on arXiv."""

    requested: int = 0
    enriched: int = 0
    unknown: int = 0
    failed: int = 0
    requests: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)
    inference: InferReport | None = None
    seconds: float = 0.0


@dataclass(slots=True)
class StarsReport:
    """``refresh_stars``: repositories asked about (checked), those whose stars changed on a
    paper (changed), unchanged ones (a 304, or the same count), those GitHub does not know
    (missing: marked, tried again later), failed ones (an error answer or malformed JSON:
    the old stars kept), why the run stopped early, each error, and when GitHub's rate
    limit resets when it stopped the run."""

    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    missing: int = 0
    failed: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)
    resume_at: dt.datetime | None = None


class Upkeep:
    """See the module docstring. ``http`` builds the HTTP client of a source (tests and
    benchmarks pace it as they need); ``clock`` is "now"."""

    def __init__(
        self,
        db: Database,
        config: Config,
        papers: Papers,
        search: Searcher,
        *,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self.config = config
        self._papers = papers
        self._search = search
        self._clock = clock
        self._sleep = sleep

    # -- arXiv metadata ------------------------------------------------------------------------

    def arxiv_client(self) -> HttpClient:
        """A client paced as arXiv asks (``arxiv_min_interval``)."""
        return HttpClient(
            min_interval=self.config.arxiv_min_interval,
            max_retries=self.config.http_max_retries,
            timeout=self.config.http_timeout,
            sleep=self._sleep,
        )

    def enrich(
        self,
        *,
        limit: int | None = None,
        infer_after: bool = True,
        client: HttpClient | None = None,
    ) -> EnrichReport:
        """Complete up to ``limit`` papers that lack arXiv's own metadata (categories,
        authors, dates: those known only from Hugging Face, a BibTeX file...) from the arXiv
        API, ``enrich_batch_size`` ids a request, paced by ``arxiv_min_interval``. A batch
        arXiv answers with an HTTP error or an unreadable document writes nothing, and its
        papers are tried again after ``enrich_retry_hours`` (doubling); a paper arXiv does
        not know is marked so and tried again as rarely. A 503 that outlasts the client's
        retries, or an unreachable arXiv, stops the run (the rest waits for the next).
        Then, with ``infer_after``, infers categories for papers still without any."""
        report = EnrichReport()
        token = secrets.token_hex(8)
        owned = client is None
        http = client or self.arxiv_client()
        started = time.monotonic()
        try:
            with self._db.read() as connection:
                unseeded = q.unseeded(connection)
            with self._db.write() as connection:
                q.seed(connection, unseeded)
            while limit is None or report.requested < limit:
                size = self.config.enrich_batch_size
                if limit is not None:
                    size = min(size, limit - report.requested)
                now = self._clock()
                with self._db.write() as connection:
                    claimed = q.claim(connection, token, now, now + CLAIM, size)
                if not claimed:
                    break
                report.requested += len(claimed)
                if not self._enrich_batch(http, token, claimed, report):
                    break
        finally:
            with self._db.write() as connection:
                q.release(connection, token)
            if owned:
                http.close()
            report.seconds = time.monotonic() - started
        if infer_after:
            report.inference = self.infer_categories()
        return report

    def _enrich_batch(
        self, http: HttpClient, token: str, claimed: dict[int, str], report: EnrichReport
    ) -> bool:
        """Ask arXiv for one claimed batch and store what it answers; False when the run
        must stop (arXiv unavailable)."""
        by_id = {arxiv_id: pk for pk, arxiv_id in claimed.items()}
        ids = sorted(by_id)
        report.requests += 1
        url = self.config.arxiv_api_url
        params = {"search_query": "", "id_list": ",".join(ids), "start": "0"}
        try:
            body = http.get(url, {**params, "max_results": str(len(ids))})
        except SourceError as exc:
            if exc.status == 400 and len(claimed) > 1:
                # arXiv refuses a whole batch for one id it cannot read: ask for each alone,
                # so one bad id never holds the others back.
                for single, arxiv_id in claimed.items():
                    if not self._enrich_batch(http, token, {single: arxiv_id}, report):
                        return False
                return True
            self._failed(token, claimed, str(exc), report)
            if exc.status is None or exc.status >= 500 or exc.status == 429:
                report.stopped = f"arXiv is unavailable: {exc}"
                return False
            return True
        page = arxiv_api.parse_atom(body, document=f"{url} id_list={ids[0]}...")
        if page.error is not None:
            self._failed(token, claimed, f"arXiv API {url}: {page.error}", report)
            return True
        records: dict[str, tuple[int, PaperRecord]] = {}
        outcomes: dict[int, tuple[str, str | None]] = {}
        for item in page.items:
            if isinstance(item, RecordError):
                report.errors.append(f"{item.source_key}: {item.reason}")
                continue
            pk = by_id.get(item.arxiv_id or "")
            if pk is not None and pk not in outcomes:
                records[item.source_key] = (pk, item)
                outcomes[pk] = (q.DONE, None)
        for refused in self._write([record for _, record in records.values()]):
            # The database refused this one record: the others are stored; it waits.
            report.errors.append(f"{refused.source_key}: {refused.reason}")
            outcomes[records[refused.source_key][0]] = (q.FAILED, refused.reason)
        for pk in claimed:
            if pk not in outcomes:
                outcomes[pk] = (q.UNKNOWN, "the arXiv API has no entry for this id")
        report.enriched += sum(1 for status, _ in outcomes.values() if status == q.DONE)
        report.unknown += sum(1 for status, _ in outcomes.values() if status == q.UNKNOWN)
        report.failed += sum(1 for status, _ in outcomes.values() if status == q.FAILED)
        self._finish(token, outcomes)
        return True

    def _failed(
        self, token: str, claimed: dict[int, str], reason: str, report: EnrichReport
    ) -> None:
        report.errors.append(reason)
        report.failed += len(claimed)
        self._finish(token, {pk: (q.FAILED, reason) for pk in claimed})

    def _write(self, records: list[PaperRecord]) -> list[RecordError]:
        """Store the records in one transaction and return those the database refused; a
        write that fails whole (the database busy with another writer) is tried again: the
        merge rules make a second write of a record a no-op."""
        if not records:
            return []
        for attempt in range(WRITE_TRIES):
            try:
                result = self._papers.ingest(records, batch_size=len(records))
            except StorageError:
                if attempt == WRITE_TRIES - 1:
                    raise
                self._sleep(0.1 * (attempt + 1))
                continue
            return result.skipped
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _finish(self, token: str, outcomes: dict[int, tuple[str, str | None]]) -> None:
        with self._db.write() as connection:
            q.finish(connection, token, self._clock(), outcomes, self.config.enrich_retry_hours)

    def enrich_status(self) -> dict[str, int]:
        """Papers per enrichment status (pending, done, failed, unknown), those still lacking
        arXiv's metadata (lacking) and those with inferred categories (inferred)."""
        with self._db.read() as connection:
            found = q.counts(connection)
            found["inferred"] = q.inferred_count(connection)
        return found

    # -- inferred categories -------------------------------------------------------------------

    def _labelled(self) -> tuple[dict[int, tuple[str, ...]], np.ndarray, np.ndarray]:
        with self._db.read() as connection:
            own = q.categorised(connection)
        pks, vectors = self._search.stored_vectors()
        return own, pks, vectors

    def infer_categories(self) -> InferReport:
        """Infer categories (``infer_neighbours`` nearest categorised papers by vector, a
        vote weighted by similarity, ``infer_threshold``) for every paper that has a vector
        but no categories of its own, and drop the inferred ones of papers that now have
        their own. Offline; the same data gives the same rows, so it is safe to repeat."""
        own, pks, vectors = self._labelled()
        report = InferReport()
        if len(pks) == 0:
            with self._db.write() as connection:
                report.cleared = q.drop_inferred_of_categorised(connection)
            return report
        known = np.array([pk in own for pk in pks.tolist()], dtype=bool)
        labels = [own[int(pk)] for pk in pks[known]]
        targets = pks[~known]
        found = infer(
            vectors[known],
            labels,
            vectors[~known],
            k=self.config.infer_neighbours,
            threshold=self.config.infer_threshold,
        )
        inferred: dict[int, Inferred] = {
            int(pk): got for pk, got in zip(targets, found, strict=True)
        }
        report.considered = len(inferred)
        report.inferred = sum(1 for got in inferred.values() if got)
        with self._db.write() as connection:
            report.cleared = q.drop_inferred_of_categorised(connection)
            q.store_inferred(connection, inferred, self._search.model, self._clock())
        return report

    def inference_accuracy(self) -> dict[str, Accuracy]:
        """The inference measured on the papers that have categories, each held out in turn
        and inferred from all the others (``paperroute enrich --accuracy``): over every such
        paper ("all"), and over those Hugging Face listed ("hf"), the population whose
        uncategorised papers the inference is for."""
        own, pks, vectors = self._labelled()
        known = np.array([pk in own for pk in pks.tolist()], dtype=bool)
        labelled = pks[known] if len(pks) else pks
        labels = [own[int(pk)] for pk in labelled]
        with self._db.read() as connection:
            listed = q.hf_listed(connection)
        matrix = vectors[known] if len(pks) else vectors
        k, threshold = self.config.infer_neighbours, self.config.infer_threshold
        hf = [int(pk) in listed for pk in labelled]
        return {
            "all": holdout(matrix, labels, k=k, threshold=threshold),
            "hf": holdout(matrix, labels, k=k, threshold=threshold, among=hf),
        }

    # -- code stars ----------------------------------------------------------------------------

    def github_client(self) -> HttpClient:
        return HttpClient(
            max_retries=self.config.http_max_retries,
            timeout=self.config.http_timeout,
            sleep=self._sleep,
        )

    def refresh_stars(
        self, *, limit: int | None = None, client: HttpClient | None = None
    ) -> StarsReport:
        """Ask GitHub for the stars of up to ``limit`` repositories papers link to, those
        never asked first, then those not asked for ``stars_refresh_hours``; each request
        conditional on the last ETag. Stops, and remembers until when, once GitHub says the
        rate limit is exhausted: a run before that time makes no request."""
        report = StarsReport()
        now = self._clock()
        with self._db.read() as connection:
            limited = get_state(connection, _stars.RATE_LIMIT_KEY) or {}
            linked = _stars.linked_repos(connection)
        resume = limited.get("reset")
        if resume and dt.datetime.fromisoformat(resume) > now:
            report.resume_at = dt.datetime.fromisoformat(resume)
            report.stopped = f"GitHub's rate limit is exhausted until {resume}"
            return report
        if not linked:
            return report
        with self._db.write() as connection:
            _stars.seed(connection, linked)
        token = secrets.token_hex(8)
        owned = client is None
        http = client or self.github_client()
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self.config.github_token:
            headers["Authorization"] = f"Bearer {self.config.github_token}"
        due = now - dt.timedelta(hours=self.config.stars_refresh_hours)
        try:
            while report.stopped is None and (limit is None or report.checked < limit):
                size = 50 if limit is None else min(50, limit - report.checked)
                now = self._clock()
                with self._db.write() as connection:
                    claimed = _stars.claim(
                        connection, token, now, now + CLAIM, due, size, sorted(linked)
                    )
                if not claimed:
                    break
                for repo, etag in claimed:
                    if report.stopped is not None:
                        break
                    self._refresh_repo(http, token, repo, etag, headers, linked[repo], report)
        finally:
            with self._db.write() as connection:
                _stars.release(connection, token)
            if owned:
                http.close()
        return report

    def _refresh_repo(
        self,
        http: HttpClient,
        token: str,
        repo: str,
        etag: str | None,
        headers: dict[str, str],
        paper_pks: list[int],
        report: StarsReport,
    ) -> None:
        url = f"{self.config.github_api_url.rstrip('/')}/repos/{repo}"
        asked = {**headers, **({"If-None-Match": etag} if etag else {})}
        report.checked += 1

        def save(
            status: str,
            *,
            stars: int | None = None,
            etag: str | None = None,
            error: str | None = None,
            paper_pks: list[int] | None = None,
        ) -> bool:
            with self._db.write() as connection:
                return _stars.record(
                    connection,
                    token,
                    repo,
                    self._clock(),
                    status=status,
                    stars=stars,
                    etag=etag,
                    error=error,
                    paper_pks=paper_pks or (),
                )

        try:
            answer = http.fetch(url, headers=asked, pass_through=frozenset({304, 403, 404, 429}))
        except SourceError as exc:
            report.failed += 1
            report.errors.append(f"{repo}: {exc}")
            save(_stars.FAILED, error=str(exc), etag=etag)
            if exc.status is None or exc.status >= 500:
                report.stopped = f"GitHub is unavailable: {exc}"
            return
        if answer.status in (403, 429):
            remaining = answer.headers.get("x-ratelimit-remaining")
            if remaining is not None and remaining.strip() == "0":
                reset = _stars.reset_time(answer.headers.get("x-ratelimit-reset"))
                reset = reset or self._clock() + dt.timedelta(hours=1)
                report.checked -= 1  # not checked: tried first next time
                report.resume_at = reset
                report.stopped = f"GitHub's rate limit is exhausted until {reset.isoformat()}"
                with self._db.write() as connection:
                    put_state(connection, _stars.RATE_LIMIT_KEY, {"reset": reset.isoformat()})
                return
            reason = f"{repo}: GitHub answered HTTP {answer.status}"
            report.failed += 1
            report.errors.append(reason)
            save(_stars.FAILED, error=reason, etag=etag)
            return
        if answer.status == 404:
            report.missing += 1
            save(_stars.MISSING, error="GitHub has no such repository (HTTP 404)")
            return
        if answer.status == 304:
            report.unchanged += 1
            save(_stars.OK, etag=etag)
            return
        parsed = _stars.parse_repo(answer.body)
        if parsed.stars is None:
            report.failed += 1
            report.errors.append(f"{repo}: {parsed.error}")
            save(_stars.FAILED, error=parsed.error, etag=etag)
            return
        changed = save(
            _stars.OK,
            stars=parsed.stars,
            etag=answer.headers.get("etag"),
            paper_pks=paper_pks,
        )
        if changed:
            report.changed += 1
        else:
            report.unchanged += 1
