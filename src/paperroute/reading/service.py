"""``hub.reading``: the hub as a reader reads it. One method per use case, each in one
``Database.read()`` connection, called alike by the web pages, the JSON API, the feeds, the
Hugging Face compatible endpoint and the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ..clock import Clock, utcnow
from ..config import Config
from ..errors import InvalidInput, NotFound
from ..store.session import Database
from . import _precomputed, scoring
from . import _queries as q
from ._version import DataVersion
from .model import SORTS, Author, Card, Day, DaySlice, ListView, Page, PaperView, Period, Trending
from .scoring import WINDOW_DAYS, Terms, Weights

WINDOWS = tuple(WINDOW_DAYS)  # week, month, all


class Reading:
    """Reading the hub: daily / weekly / monthly listings, trending, one paper's score,
    authors, categories and cards. Thread-safe."""

    def __init__(self, db: Database, config: Config, *, clock: Clock = utcnow) -> None:
        self._db = db
        self.config = config
        self._clock = clock
        self._version = DataVersion(db)

    @property
    def weights(self) -> Weights:
        """Trending's weights, from the configuration."""
        return Weights.from_config(self.config)

    # -- cards ------------------------------------------------------------------------------

    def cards(self, pks: Sequence[int]) -> list[Card]:
        """Cards for ``pks``, in that order; hidden and unknown papers are left out."""
        if not pks:
            return []
        with self._db.read() as connection:
            return q.load_cards(connection, pks)

    def paper(self, paper_id: str) -> PaperView:
        """A paper's key, card and this week's trending terms (the paper page and its JSON);
        NotFound when it is hidden, even if it was hidden a moment ago."""
        with self._db.read() as connection:
            pk = q.paper_pk(connection, paper_id)
            cards = q.load_cards(connection, [pk]) if pk is not None else []
            if pk is None or not cards:
                raise NotFound(f"no paper {paper_id[:100]!r}")
            terms = self._explain(connection, pk, "week")
        return PaperView(pk, cards[0], terms)

    # -- days, weeks, months ---------------------------------------------------------------

    def list_view(
        self, sort: str | None = None, category: str | None = None, *, has_code: bool = False
    ) -> ListView:
        """The ListView a reader asked for: InvalidInput for an unknown sort, NotFound for a
        category no paper is in; a category's case variant ("cs.cl") reads as its stored
        spelling."""
        if sort is not None and sort not in SORTS:
            raise InvalidInput(f"sort must be upvotes, newest or stars, not {sort[:40]!r}")
        if category is not None:
            found = self.canonical_category(category)
            if found is None:
                raise NotFound(f"no papers in category {category[:60]!r}")
            category = found
        return ListView(sort, category, has_code)

    def day(
        self,
        day: dt.date | None,
        *,
        arxiv_offset: int = 0,
        arxiv_limit: int = 50,
        view: ListView = q.EVERYTHING,
    ) -> Day | None:
        """A day's listings (default: the newest day that has any; None when none has),
        narrowed and sorted by ``view``."""
        with self._db.read() as connection:
            if day is None:
                day = q.newest_day(connection)
                if day is None:
                    return None
            hf = q.top_between(connection, day, day, limit=q.MAX_PAGE, view=view)
            arxiv = q.arxiv_listed(
                connection, day, offset=arxiv_offset, limit=arxiv_limit, view=view
            )
            before, after = q.neighbour_days(connection, day)
        return Day(day, hf.cards, arxiv, before, after)

    def day_slice(
        self, day: dt.date | None, *, offset: int, limit: int, view: ListView = q.EVERYTHING
    ) -> DaySlice | None:
        """``limit`` listings of a day from ``offset``, reading Hugging Face's daily papers
        (by upvotes) and then the day's other arXiv listings (by id) as one list (default: the
        newest day that has any; None when none has); each part narrowed and sorted by
        ``view``."""
        with self._db.read() as connection:
            chosen = day or q.newest_day(connection)
            if chosen is None:
                return None
            hf = q.top_between(connection, chosen, chosen, limit=q.MAX_PAGE, view=view).cards
            cards = hf[offset : offset + limit]
            room = limit - len(cards)
            arxiv = q.arxiv_listed(
                connection,
                chosen,
                offset=max(0, offset - len(hf)),
                limit=max(room, 1),
                view=view,
            )
            if room:
                cards += arxiv.cards
            before, after = q.neighbour_days(connection, chosen)
        return DaySlice(chosen, cards, len(hf) + arxiv.total, before, after)

    def latest_days(
        self, count: int, per_list: int, *, view: ListView = q.EVERYTHING
    ) -> list[Card]:
        """The ``count`` newest days with listings, newest first: each day's ``per_list``
        most upvoted Hugging Face papers, then its first ``per_list`` arXiv listings (each
        narrowed and sorted by ``view``)."""
        cards: list[Card] = []
        with self._db.read() as connection:
            days = q.listing_days(connection)[-count:] if count > 0 else []
            for day in reversed(days):
                cards += q.top_between(connection, day, day, limit=per_list, view=view).cards
                cards += q.arxiv_listed(connection, day, limit=per_list, view=view).cards
        return cards

    def period(
        self,
        start: dt.date,
        end: dt.date,
        *,
        offset: int,
        limit: int,
        view: ListView = q.EVERYTHING,
    ) -> Period:
        """The Hugging Face papers listed in [start, end], most upvoted first (HF upvotes and
        reader votes) or as ``view`` narrows and sorts them, with the period's days and
        whether days are listed around it."""
        with self._db.read() as connection:
            top = q.top_between(connection, start, end, offset=offset, limit=limit, view=view)
            days = q.day_counts(connection, start, end)
            earlier = q.has_days(connection, dt.date.min, start - dt.timedelta(days=1))
            later = q.has_days(connection, end + dt.timedelta(days=1), dt.date.max)
        return Period(top, days, earlier, later)

    def hf_daily_papers(
        self, period: tuple[dt.date, dt.date] | None, sort: str | None
    ) -> list[tuple[Card, dt.date | None]]:
        """The Hugging Face daily papers of [start, end] (default: the newest day that has
        listings), each with its first Hugging Face listing day in the period; most upvoted
        first, or by ``sort``: ``publishedAt`` newest first, ``trending`` by this week's
        score."""
        with self._db.read() as connection:
            if period is None:
                newest = q.newest_day(connection)
                if newest is None:
                    return []
                start, end = newest, newest
            else:
                start, end = period
            ranked = q.top_between(connection, start, end, limit=10_000).cards
            listed = q.first_listed(connection, [c.pk for c in ranked], "hf", start, end)
            if sort == "publishedAt":
                ranked.sort(
                    key=lambda c: c.submitted_at or dt.datetime.min.replace(tzinfo=dt.UTC),
                    reverse=True,
                )
            elif sort == "trending":
                scores = self._scores(connection, [c.pk for c in ranked], "week")
                ranked.sort(key=lambda c: -scores[c.pk].score if c.pk in scores else 0.0)
        return [(card, listed.get(card.pk)) for card in ranked]

    # -- trending ----------------------------------------------------------------------------

    def trending(
        self, window: str, *, offset: int = 0, limit: int = 30, view: ListView = q.EVERYTHING
    ) -> Trending:
        """A page of the trending ranking of ``window`` (week, month or all), by score or as
        ``view`` narrows and sorts it (ties keep the score's order)."""
        weights = self.weights
        with self._db.read() as connection:
            ranked = self._stored(connection, weights, window, view)
            if ranked is None:
                ranked = self._rank(connection, weights, window, view)
            if view.sort == "upvotes":
                ranked.sort(key=lambda t: -t.upvotes)
            elif view.sort == "newest":
                ranked.sort(key=lambda t: t.age_days)
            elif view.sort == "stars":
                ranked.sort(key=lambda t: (t.stars is None, -(t.stars or 0)))
            chosen = ranked[offset : offset + limit]
            cards = q.load_cards(connection, [t.pk for t in chosen])
        return Trending(window, weights, chosen, Page(cards, len(ranked), offset, limit))

    def precompute_trending(self, windows: Sequence[str] = WINDOWS) -> dict[str, int]:
        """Compute and store the whole ranking of each of ``windows`` (the job after imports
        and votes), so that ``trending()`` reads it rather than ranking per request while
        nothing it depends on has changed. Returns each window's number of ranked papers
        (-1 for a window left unstored because no day has listings). Safe to run twice at
        once: each window's ranking is replaced whole, in one transaction."""
        unknown = [w for w in windows if w not in WINDOWS]
        if unknown:
            raise InvalidInput(f"window must be week, month or all, not {unknown[0][:20]!r}")
        weights = self.weights
        counts: dict[str, int] = {}
        for window in windows:
            with self._db.write() as connection:
                # The stamp is read before the ranking: a write between the two leaves a
                # stamp older than the data, which only makes the next read recompute.
                stamped = _precomputed.stamp(connection, weights)
                if stamped is None:
                    counts[window] = -1
                    continue
                ranked = self._rank(connection, weights, window, q.EVERYTHING)
                _precomputed.store(connection, window, ranked, stamped, self._clock())
                counts[window] = len(ranked)
        return counts

    def _stored(
        self, connection: Connection, weights: Weights, window: str, view: ListView
    ) -> list[Terms] | None:
        """``window``'s precomputed ranking narrowed by ``view`` while it is fresh, else None."""
        stamped = _precomputed.stamp(connection, weights)
        narrowed = q.narrowed(_precomputed.SCORE_PK, view)
        return _precomputed.load(connection, window, stamped, narrowed)

    def explain(self, paper_id: str, window: str) -> Terms | None:
        """Each term of a paper's score in ``window`` (None when it is hidden or unknown)."""
        with self._db.read() as connection:
            pk = q.paper_pk(connection, paper_id)
            return self._explain(connection, pk, window) if pk else None

    def _reference(self, connection: Connection) -> dt.datetime:
        reference = scoring.reference_time(q.newest_day(connection))
        return reference if reference is not None else self._clock()

    def _rank(
        self, connection: Connection, weights: Weights, window: str, view: ListView
    ) -> list[Terms]:
        """Papers of ``window`` that ``view`` lets through, by score, highest first: week and
        month, every paper first listed in their last 7 / 30 days; all, every paper with an
        upvote, a reader vote or code stars."""
        reference = self._reference(connection)
        start = scoring.window_start(reference, window)
        found = q.candidates(connection, since=start, signals_only=window == "all", view=view)
        return scoring.rank(found, reference, weights, window)

    def _scores(self, connection: Connection, pks: Sequence[int], window: str) -> dict[int, Terms]:
        """The terms of each visible paper of ``pks`` (hidden and unknown ones are absent)."""
        reference = self._reference(connection)
        weights = self.weights
        return {
            candidate.pk: scoring.score(candidate, reference, weights, window)
            for candidate in q.candidates(connection, pks)
        }

    def _explain(self, connection: Connection, pk: int, window: str) -> Terms | None:
        return self._scores(connection, [pk], window).get(pk)

    # -- authors and categories -------------------------------------------------------------

    def author(self, name: str, *, offset: int = 0, limit: int = 30) -> Author:
        """An author's papers, newest first (the name matches up to case, spacing and
        accents; ``Author.name`` is the stored spelling, the canonical one); NotFound when
        nobody has that name."""
        with self._db.read() as connection:
            found = q.find_author(connection, name)
            if found is None:
                raise NotFound(f"no author named {name[:100]!r}")
            pk, stored = found
            papers = q.by_author(connection, pk, offset=offset, limit=limit)
        return Author(stored, papers)

    def categories(self) -> list[tuple[str, int]]:
        """Every category with its number of (visible) papers, largest first."""
        with self._db.read() as connection:
            return q.categories(connection)

    def canonical_category(self, category: str) -> str | None:
        """The stored spelling of ``category`` up to case ("cs.cl" -> "cs.CL"), else None."""
        with self._db.read() as connection:
            return q.canonical_category(connection, category)

    def category(self, category: str, *, offset: int = 0, limit: int = 30) -> Page:
        """Papers in a category (any position), newest first; NotFound when it has none."""
        with self._db.read() as connection:
            found = q.in_category(connection, category, offset=offset, limit=limit)
        if found.total == 0:
            raise NotFound(f"no papers in category {category[:60]!r}")
        return found

    # -- the page cache's signal -----------------------------------------------------------

    def data_version(self) -> tuple[Any, ...]:
        """A value that changes whenever a list, a page or a count a reader sees may change
        (cheap: no table scan)."""
        return self._version()

    def close(self) -> None:
        """Let go of the connection ``data_version`` keeps on SQLite."""
        self._version.close()
