"""``hub.foryou``: a reader's "For you" — their profile (upvotes and collections, read by
``hub.recommend.build_profile``, plus the private signals of ``hub.signals``), the page of
the best new papers of their last N days, diversified, and the library upload.

A library entry the hub does not hold is kept privately with the file's own title,
authors, year and abstract (never written into the public papers table: a library is
private). Each time a profile is built, those entries are matched again against the store
(arXiv id, DOI, title), so one becomes a seed as soon as the hub ingests its paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from ..clock import Clock, utcnow
from ..errors import InvalidInput
from ..ids import title_hash
from ..site import ratelimit
from ..store import queries
from ..store.session import Database
from . import _queries as q
from . import _signal_queries as sql
from .library import LibraryEntry, parse_library
from .model import Pick, Profile, Seed
from .service import Recommender
from .signals import Signals
from .signals_model import LibraryReport, StoredEntry

MAX_PAGE = 100
PER_INTEREST = 3  # picks one reason may hold on a page before the others get a turn
POOL = 4  # rank this many times the page, then diversify
MAX_SKIPPED_SHOWN = 50
# Each upload parses up to 8 MiB and rewrites up to 50,000 rows: plenty for a reader
# trying exports, and a bound on what one account can make the hub do.
LIBRARY_UPLOADS_PER_HOUR = 20


def diversify(picks: Sequence[Pick], limit: int, per_interest: int = PER_INTEREST) -> list[Pick]:
    """The page in rounds: each round takes up to ``per_interest`` more picks of every
    interest (the seed paper or the reason a pick gives), best first within the round, so
    no interest holds more than ``per_interest`` of a round's places while others have picks
    left, and one strong interest fills the page's end, not its top."""
    by_interest: dict[str, list[Pick]] = {}
    for pick in picks:
        by_interest.setdefault(pick.reason_paper_id or pick.reason, []).append(pick)
    order = {id(p): n for n, p in enumerate(picks)}
    page: list[Pick] = []
    start = 0
    while len(page) < limit and any(len(held) > start for held in by_interest.values()):
        chunk = [p for held in by_interest.values() for p in held[start : start + per_interest]]
        page.extend(sorted(chunk, key=lambda p: order[id(p)]))
        start += per_interest
    return page[:limit]


@dataclass(frozen=True, slots=True)
class ForYouPick:
    pick: Pick
    paper_pk: int


@dataclass(frozen=True, slots=True)
class ForYouPage:
    picks: list[ForYouPick]
    days: int
    since: dt.date
    cold: bool  # no signal at all: the page offers the cold start instead


class ForYou:
    """Thread-safe: every call opens its own transactions."""

    def __init__(
        self, db: Database, recommender: Recommender, signals: Signals, *, clock: Clock = utcnow
    ) -> None:
        self._db = db
        self._recommend = recommender
        self._signals = signals
        self._clock = clock

    def profile(self, user_pk: int) -> Profile:
        """Everything the ranker knows about the reader: upvotes and collections, library,
        "more like this" (seeds), "not interested" (negatives), followed authors and
        categories."""
        base = self._recommend.build_profile(user_pk)
        with self._db.read() as connection:
            kinds = sql.feedback(connection, user_pk)
            follows = sql.follows(connection, user_pk)
            library = sql.library(connection, user_pk)
            _name, library_at = sql.library_source(connection, user_pk)
        seeds: dict[str, Seed] = {s.paper_id: s for s in base.seeds}
        added = library_at.date() if library_at else None
        unmatched = [(i.pk, i.ref, i.title) for i in library if i.paper_id is None]
        rematched = self._rematch(user_pk, unmatched)
        for paper_id in [i.paper_id for i in library if i.paper_id] + rematched:
            seeds.setdefault(paper_id, Seed(paper_id, "library", 1.0, added))
        negatives = {f.paper_id for f in kinds if f.kind == "less"}
        for item in kinds:
            if item.kind == "more":
                seeds[item.paper_id] = Seed(
                    item.paper_id, "more_like_this", 1.0, item.created_at.date()
                )
        return replace(
            base,
            seeds=tuple(s for s in seeds.values() if s.paper_id not in negatives),
            negatives=frozenset(negatives) | base.negatives,
            authors=tuple(f.value for f in follows if f.kind == "author"),
            categories=tuple(f.value for f in follows if f.kind == "category"),
        )

    def rematch_library(self, user_pk: int) -> int:
        """Match the reader's library entries the hub did not hold against the store again
        (it may have ingested their papers since); returns how many now match."""
        with self._db.read() as connection:
            unmatched = sql.unmatched_library(connection, user_pk)
        return len(self._rematch(user_pk, unmatched))

    def _rematch(self, user_pk: int, unmatched: Sequence[tuple[int, str | None, str]]) -> list[str]:
        """The paper ids the unmatched entries name now, in the library's order; each match
        is stored on the reader's own entry (the cache: an entry is matched once, and /me
        shows it as the paper it is)."""
        if not unmatched:
            return []
        entries = [
            LibraryEntry(
                key=str(pk),
                arxiv_id=ref if ref and not ref.startswith("10.") else None,
                doi=ref if ref and ref.startswith("10.") else None,
                # The stored title is the id when the file gave none: no title to match.
                title=title if title != ref else None,
            )
            for pk, ref, title in unmatched
        ]
        with self._db.read() as connection:
            found = _matches(connection, entries)
        if not found:
            return []
        with self._db.write() as connection:
            sql.set_library_matches(
                connection, user_pk, {unmatched[n][0]: row.pk for n, row in found.items()}
            )
        return [found[n].id for n in sorted(found)]

    def page(self, user_pk: int, *, limit: int = 30, days: int | None = None) -> ForYouPage:
        """The best papers of the reader's last ``days`` (their setting by default), best
        first, each with its reason, no interest holding more than its share."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        days = days if days is not None else self._signals.days(user_pk)
        today = self._clock().date()
        with self._db.read() as connection:
            newest = sql.newest_day(connection)
        # Counted back from the newest listing the hub holds (today at the latest): when
        # ingestion lags, the page shows the last days it has, not "no new papers".
        since = min(today, newest or today) - dt.timedelta(days=days)
        profile = self.profile(user_pk)
        if profile.empty:
            return ForYouPage([], days, since, cold=True)
        ranked = self._recommend.rank(profile, since=since, limit=limit * POOL)
        picks = diversify(ranked, limit)
        with self._db.read() as connection:
            pks = [queries.find_paper_pk(connection, p.paper_id) for p in picks]
        found = [ForYouPick(p, pk) for p, pk in zip(picks, pks, strict=True) if pk is not None]
        return ForYouPage(found, days, since, cold=False)

    def import_library(self, user_pk: int, data: bytes, filename: str) -> LibraryReport:
        """Replace the reader's library with the file's entries (all or nothing). Raises
        InvalidInput (LibraryError) for a file that cannot be used at all; entries that
        cannot be used are listed in the report's ``skipped``. RateLimited past
        ``LIBRARY_UPLOADS_PER_HOUR`` (counted before the file is read)."""
        with self._db.write() as connection:
            ratelimit.hit(
                connection,
                f"library:{user_pk}",
                limit=LIBRARY_UPLOADS_PER_HOUR,
                window=3600,
                now=self._clock().timestamp(),
                what="library uploads",
            )
        # The name is the client's to choose: keep what a page and a database can hold.
        filename = "".join(ch for ch in filename[:200] if ch.isprintable()).strip()
        filename = filename or "library"
        parsed = parse_library(data, filename)
        with self._db.read() as connection:
            pk_of = _matches(connection, parsed.entries)
        stored = [
            StoredEntry(
                paper_pk=pk_of[n].pk if n in pk_of else None,
                ref=(entry.arxiv_id or entry.doi or "")[:400] or None,
                title=(entry.title or entry.arxiv_id or entry.doi or entry.key)[:2000],
                authors=tuple(a[:200] for a in entry.authors[:100]),
                year=entry.year,
                abstract=entry.abstract[:20_000],
            )
            for n, entry in enumerate(parsed.entries)
        ]
        self._signals.replace_library(user_pk, stored, filename)
        skipped = tuple(str(s) for s in parsed.skipped)
        return LibraryReport(
            format=parsed.format,
            stored=len(stored),
            matched=sum(1 for s in stored if s.paper_pk is not None),
            skipped=skipped,
        )


def _matches(connection: Connection, entries: Sequence[LibraryEntry]) -> dict[int, q.PaperRow]:
    """entry position -> the stored paper it names, by arXiv id, then DOI, then title (the
    rules of ``hub.recommend.match_library``), in a few bulk queries."""
    by_arxiv = q.pks_by_arxiv(connection, [e.arxiv_id for e in entries if e.arxiv_id])
    by_doi = q.ids_by_doi(connection, [e.doi for e in entries if e.doi])
    by_title = q.ids_by_title_hash(connection, [title_hash(e.title) for e in entries if e.title])
    ids: dict[int, str] = {}
    for n, entry in enumerate(entries):
        found = (
            (by_arxiv.get(entry.arxiv_id) if entry.arxiv_id else None)
            or (by_doi.get(entry.doi) if entry.doi else None)
            or (by_title.get(title_hash(entry.title)) if entry.title else None)
        )
        if found is not None:
            ids[n] = found
    rows = q.rows_by_id(connection, sorted(set(ids.values())))
    # A paper the moderators hid is no paper of this hub to a reader's library: matching it
    # would tell the reader it exists.
    hidden = q.hidden(connection, [row.pk for row in rows.values()])
    return {n: rows[i] for n, i in ids.items() if i in rows and rows[i].pk not in hidden}
