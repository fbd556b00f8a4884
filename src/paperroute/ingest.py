"""Import use cases: every source, from files or the network, into the hub.

The CLI (and later the scheduler) call these; each returns an IngestReport and never lets a
bad record or an unreadable file stop the rest.
"""

from __future__ import annotations

import datetime as dt
import lzma
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path

from .config import Config
from .errors import InvalidInput, SourceError
from .hub import Hub
from .model import IngestReport, ParseItem, RecordError
from .papers import Progress
from .sources import arxiv_api, hf_daily, oai, rss
from .sources.background import parse_in_background
from .sources.bibtex import parse_bibtex
from .sources.http import HttpClient
from .sources.jsonl import iter_jsonl, open_jsonl
from .sources.page import parse_page
from .sources.zotero import parse_zotero

MAX_DOCUMENT = 256 * 1024 * 1024  # whole-document formats are read into memory
_DAY_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")

Parser = Callable[[bytes, str], Iterable[ParseItem]]


def arxiv_client(config: Config) -> HttpClient:
    """An HTTP client paced as arXiv asks (``arxiv_min_interval``)."""
    return HttpClient(
        min_interval=config.arxiv_min_interval,
        max_retries=config.http_max_retries,
        timeout=config.http_timeout,
    )


def hf_client(config: Config) -> HttpClient:
    """An HTTP client for Hugging Face's API."""
    return HttpClient(
        min_interval=0.5, max_retries=config.http_max_retries, timeout=config.http_timeout
    )


def fetch_feed(config: Config, url: str) -> rss.FeedBatch:
    """An announcement feed fetched from ``url``. Raises SourceError."""
    with arxiv_client(config) as client:
        return rss.fetch_feed(client, url)


def _read(path: Path) -> bytes:
    """A whole file, or SourceError with the reason it can't be read."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT:
            raise SourceError(f"{path}: {size:,} bytes is larger than the {MAX_DOCUMENT:,} limit")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None


def _document_failed(report: IngestReport, source: str, document: str, reason: str) -> None:
    report.skipped.append(RecordError(source, document, reason))


def ingest_documents(
    hub: Hub, paths: Sequence[Path], source: str, parse: Parser, progress: Progress | None = None
) -> IngestReport:
    """Whole-document formats (BibTeX, Zotero JSON, pages, OAI-PMH responses)."""
    report = IngestReport()
    for path in paths:
        try:
            data = _read(path)
        except SourceError as exc:
            _document_failed(report, source, str(path), str(exc))
            continue
        report.merge(hub.papers.ingest(parse(data, str(path)), progress=progress))
    return report


def ingest_bibtex(
    hub: Hub, paths: Sequence[Path], progress: Progress | None = None
) -> IngestReport:
    return ingest_documents(
        hub, paths, "bibtex", lambda d, n: parse_bibtex(d, document=n), progress
    )


def ingest_zotero(
    hub: Hub, paths: Sequence[Path], progress: Progress | None = None
) -> IngestReport:
    return ingest_documents(
        hub, paths, "zotero", lambda d, n: parse_zotero(d, document=n), progress
    )


def ingest_pages(
    hub: Hub, paths: Sequence[Path], year: int | None = None, progress: Progress | None = None
) -> IngestReport:
    return ingest_documents(
        hub, paths, "page", lambda d, n: parse_page(d, document=n, year=year), progress
    )


def ingest_oai_files(
    hub: Hub, paths: Sequence[Path], progress: Progress | None = None
) -> IngestReport:
    """Saved OAI-PMH responses; the parser's notices (a repaired encoding) are reported."""
    report = IngestReport()
    for path in paths:
        try:
            page = oai.parse_oai(_read(path), document=str(path))
        except SourceError as exc:
            _document_failed(report, "arxiv-oai", str(path), str(exc))
            continue
        report.notices.extend(f"{path}: {notice}" for notice in page.notices)
        report.merge(hub.papers.ingest(page.items, progress=progress))
    return report


# -- JSON Lines ----------------------------------------------------------------------------


def _jsonl_items(path: Path) -> Iterator[ParseItem]:
    try:
        stream = open_jsonl(path)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    with stream:
        yield from iter_jsonl(stream, document=path.name)


def ingest_jsonl(
    hub: Hub,
    paths: Sequence[Path],
    progress: Progress | None = None,
    *,
    background: bool = True,
) -> IngestReport:
    """JSON Lines (our corpus shape or Kaggle's), plain or gzip, streamed. With
    ``background`` the file is parsed in a second process while this one writes."""
    report = IngestReport()
    for path in paths:
        if not path.is_file():
            _document_failed(report, "jsonl", str(path), "no such file")
            continue
        items = parse_in_background(_jsonl_items, path) if background else _jsonl_items(path)
        report.merge(hub.papers.ingest(items, progress=progress))
    return report


# -- Hugging Face daily papers ------------------------------------------------------------


def _day_from_name(name: str) -> dt.date | None:
    """The day in a dump's file name; for "archive.tar.gz:member.json", the member's."""
    match = _DAY_IN_NAME.search(Path(name.rpartition(":")[2]).name)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _hf_documents(path: Path) -> Iterator[tuple[str, bytes | SourceError]]:
    """(name, bytes) of each daily dump under ``path``: a .json file, a folder of them,
    or a tar archive of them (as published by newsletter scrapers)."""
    if path.is_dir():
        for child in sorted(path.glob("*.json")):
            try:
                yield str(child), _read(child)
            except SourceError as exc:
                yield str(child), exc
        return
    if path.is_file() and tarfile.is_tarfile(path):
        try:
            with tarfile.open(path) as archive:
                members = sorted(
                    (m for m in archive if m.isfile() and m.name.endswith(".json")),
                    key=lambda m: m.name,
                )
                for member in members:
                    if member.size > MAX_DOCUMENT:
                        yield member.name, SourceError(f"{member.name}: too large")
                        continue
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield f"{path.name}:{member.name}", handle.read()
        except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            yield str(path), SourceError(f"unreadable archive {path}: {exc}")
        return
    try:
        yield str(path), _read(path)
    except SourceError as exc:
        yield str(path), exc


def ingest_hf_files(
    hub: Hub, paths: Sequence[Path], progress: Progress | None = None
) -> IngestReport:
    report = IngestReport()
    for path in paths:
        for name, data in _hf_documents(path):
            if isinstance(data, SourceError):
                _document_failed(report, "hf-daily", name, str(data))
                continue
            items = hf_daily.parse_daily(data, day=_day_from_name(name), document=name)
            report.merge(hub.papers.ingest(items, progress=progress))
    return report


def ingest_hf_days(
    hub: Hub,
    client: HttpClient,
    start: dt.date,
    until: dt.date | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    end = until or start
    if end < start:
        raise InvalidInput(f"--until {end} is before --date {start}")
    if (end - start).days > 3660:
        raise InvalidInput("at most ten years of days at a time")
    report = IngestReport()
    day = start
    while day <= end:
        try:
            items = hf_daily.fetch_day(client, day, base_url=hub.config.hf_daily_url)
        except SourceError as exc:
            _document_failed(report, "hf-daily", day.isoformat(), str(exc))
        else:
            report.merge(hub.papers.ingest(items, progress=progress))
        day += dt.timedelta(days=1)
    return report


# -- arXiv: OAI-PMH harvest, API, announcement feeds -----------------------------------------


def harvest_oai(
    hub: Hub,
    client: HttpClient,
    *,
    base_url: str,
    prefix: str = "arXivRaw",
    set_spec: str | None = None,
    from_date: str | None = None,
    until: str | None = None,
    progress: Progress | None = None,
    keep: Callable[[ParseItem], bool] | None = None,
) -> IngestReport:
    """Harvest ListRecords page by page, checkpointing after each stored page (``keep``:
    store only the records it accepts, as a scheduled source narrowed to categories does).

    The checkpoint holds the resumption token of the harvest in progress (so an interrupted
    harvest resumes at the next page) and ``last_datestamp``, the newest datestamp of the
    last *finished* harvest (so a later harvest without ``from_date`` asks only for what
    changed since). Pages come in no datestamp order, so the newest datestamp of an
    unfinished harvest is no safe starting point: it is kept apart until the harvest ends.
    """
    key = f"oai|{base_url}|{prefix}|{set_spec or ''}"
    state = hub.papers.checkpoint(key) or {}
    finished = state.get("last_datestamp")
    report = IngestReport()
    token: str | None = None
    newest: str | None = None
    same_request = state.get("from") == from_date and state.get("until") == until
    if state.get("token") and (same_request or (from_date is None and until is None)):
        token = str(state["token"])
        from_date, until = state.get("from"), state.get("until")
        newest = state.get("newest")
        report.notices.append(f"resuming the interrupted harvest at token {token[:40]}")
    elif from_date is None and finished:
        from_date = str(finished)[:10]
        report.notices.append(f"incremental harvest from {from_date}")
    pages = oai.harvest(
        client,
        base_url=base_url,
        prefix=prefix,
        set_spec=set_spec,
        from_date=from_date,
        until=until,
        resumption_token=token,
    )
    try:
        for page in pages:
            items = page.items if keep is None else [i for i in page.items if keep(i)]
            report.merge(hub.papers.ingest(items, progress=progress))
            report.notices.extend(page.notices)
            if page.deleted:
                report.notices.append(f"records deleted upstream, skipped: {page.deleted}")
            if page.last_datestamp and (newest is None or page.last_datestamp > newest):
                newest = page.last_datestamp
            if page.resumption_token:
                progress_state = {
                    "token": page.resumption_token,
                    "from": from_date,
                    "until": until,
                    "newest": newest,
                    "last_datestamp": finished,
                }
                hub.papers.save_checkpoint(key, progress_state)
            else:
                done = max(filter(None, (finished, newest)), default=None)
                hub.papers.save_checkpoint(key, {"token": None, "last_datestamp": done})
    except SourceError as exc:
        if "badResumptionToken" in str(exc):
            # arXiv's tokens expire: forget it, so that the next run starts this harvest
            # again from where the last finished one ended, skipping nothing.
            hub.papers.save_checkpoint(key, {"token": None, "last_datestamp": finished})
            report.notices.append("the resumption token expired: run again to restart")
        _document_failed(report, "arxiv-oai", base_url, str(exc))
    return report


def ingest_arxiv_api(
    hub: Hub,
    client: HttpClient,
    *,
    query: str | None = None,
    ids: Sequence[str] = (),
    max_results: int | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    report = IngestReport()
    try:
        for page in arxiv_api.search(
            client,
            query=query,
            ids=ids,
            max_results=max_results,
            base_url=hub.config.arxiv_api_url,
        ):
            report.notices.extend(page.notices)
            report.merge(hub.papers.ingest(page.items, progress=progress))
    except SourceError as exc:
        _document_failed(report, "arxiv-api", query or ",".join(ids), str(exc))
    return report


def ingest_feed(
    hub: Hub,
    batch: rss.FeedBatch,
    *,
    feed_key: str,
    progress: Progress | None = None,
) -> IngestReport:
    """Store an announcement feed's batch; a batch that repeats the previous one of the same
    feed is stored (idempotently) and reported, never taken for a day without papers."""
    key = f"rss|{feed_key}"
    state = hub.papers.checkpoint(key) or {}
    previous_date = state.get("feed_date")
    report = IngestReport()
    repeat = rss.is_repeat(
        batch,
        state.get("fingerprint"),
        dt.date.fromisoformat(previous_date) if previous_date else None,
    )
    if repeat:
        report.notices.append(f"warning: {repeat}")
    elif batch.empty:
        report.notices.append("the feed lists no papers (arXiv announces none on weekends)")
    report.merge(hub.papers.ingest(batch.items, progress=progress))
    # Only a batch with papers in it is "the previous batch": an error page must not make
    # the next stale feed look new.
    if not repeat and batch.records:
        hub.papers.save_checkpoint(
            key,
            {
                "fingerprint": batch.fingerprint,
                "feed_date": batch.feed_date.isoformat() if batch.feed_date else None,
            },
        )
    return report


def read_feed(path: Path) -> rss.FeedBatch:
    return rss.parse_feed(_read(path), document=str(path))


def ingest_demo(hub: Hub, progress: Progress | None = None) -> IngestReport:
    """The demo data bundled in the package (see paperroute/data/PROVENANCE.md): arXiv
    listings first, then the Hugging Face days that add upvotes, submitters and code."""
    data = resources.files("paperroute") / "data"
    with resources.as_file(data / "arxiv-listings.jsonl.gz") as listings:
        report = ingest_jsonl(hub, [listings], progress, background=False)
    with resources.as_file(data / "hf-daily.tar.gz") as daily:
        report.merge(ingest_hf_files(hub, [daily], progress))
    return report
