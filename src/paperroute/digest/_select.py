"""Choosing one subscriber's papers from a run's candidates: pure functions, in memory.

Order: trending papers first where the subscriber chose trending (at most half the digest
when they also chose categories, keywords or authors, so those are not crowded out), then
papers matching their choices, the ones matching more of them first, then by trending score
and day. Never a paper the subscriber has received before, never one listed before the
start of their window (the day after the last day their previous digest covered).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import islice

from ._candidates import MAX_WINDOW_DAYS, Candidates
from .model import Pick, Preferences, Subscriber


def window_start(subscriber: Subscriber, ref_day: dt.date) -> dt.date:
    """The first listing day this subscriber's next digest covers."""
    earliest = ref_day - dt.timedelta(days=MAX_WINDOW_DAYS - 1)
    if subscriber.through_day is not None:
        start = subscriber.through_day + dt.timedelta(days=1)
    elif subscriber.prefs.frequency == "weekly":
        start = ref_day - dt.timedelta(days=6)
    elif subscriber.prefs.frequency == "weekdays" and ref_day.weekday() == 0:
        start = ref_day - dt.timedelta(days=2)  # Monday's first digest covers the weekend
    else:
        start = ref_day
    return max(start, earliest)


def _ranked(candidates: Candidates) -> list[int]:
    """Each card's position in the global order (trending score, then newest)."""
    order = sorted(
        range(len(candidates.cards)),
        key=lambda i: (
            -candidates.trend[i],
            -(candidates.cards[i].day or dt.date.min).toordinal(),
            i,
        ),
    )
    position = [0] * len(order)
    for rank, i in enumerate(order):
        position[i] = rank
    return position


class Selector:
    """Picks for many subscribers over one set of candidates. Each source's list (a
    category, a keyword query, an author) is computed once and kept in global order, so a
    subscriber costs about ``max_papers`` steps per choice, not a scan of every paper."""

    def __init__(self, candidates: Candidates) -> None:
        self.candidates = candidates
        self.position = _ranked(candidates)
        self._sorted: dict[tuple[str, str], list[int]] = {}
        self.trending_set = set(candidates.trending_order)
        self._day_ordinals = [(c.day or dt.date.min).toordinal() for c in candidates.cards]
        self._first_day = min(self._day_ordinals, default=0)
        self._index = {card.pk: i for i, card in enumerate(candidates.cards)}

    def _source(self, kind: str, value: str) -> list[int]:
        key = (kind, value)
        found = self._sorted.get(key)
        if found is None:
            c = self.candidates
            hits: Iterable[int] = (
                c.category(value)
                if kind == "category"
                else c.keyword(value)
                if kind == "keyword"
                else c.author(value)
            )
            found = sorted(set(hits), key=self.position.__getitem__)
            self._sorted[key] = found
        return found

    def _eligible(self, items: list[int], first_day: int, blocked: set[int]) -> Iterator[int]:
        """``items`` without papers listed before ``first_day`` or in ``blocked``."""
        if first_day <= self._first_day and not blocked:
            return iter(items)  # the common case: every candidate qualifies
        days = self._day_ordinals
        return (i for i in items if days[i] >= first_day and i not in blocked)

    def pick(
        self, prefs: Preferences, start: dt.date, received: set[int] | frozenset[int] = frozenset()
    ) -> list[Pick]:
        """The subscriber's picks, best first; ``received``: paper pks never to pick again."""
        cards = self.candidates.cards
        first_day = start.toordinal()
        limit = prefs.max_papers
        blocked = {self._index[pk] for pk in received if pk in self._index}
        reasons: dict[int, list[str]] = {}
        sources = [
            *(("category", v, f"new in {v}") for v in prefs.categories),
            *(("keyword", v, f"matches '{v}'") for v in prefs.keywords),
            *(("author", v, f"by {v}") for v in prefs.authors),
        ]
        for kind, value, reason in sources:
            listed = self._source(kind, value)
            for i in islice(self._eligible(listed, first_day, blocked), limit * 2):
                found = reasons.get(i)
                if found is None:
                    reasons[i] = [reason]
                else:
                    found.append(reason)
        if len(sources) > 1:
            position = self.position
            matched = sorted(reasons, key=lambda i: (-len(reasons[i]), position[i]))
        else:
            matched = list(reasons)  # one source: already in the global order
        chosen: list[int] = []
        trending = self.candidates.trending_order
        if prefs.trending:
            share = limit if not sources else max(1, (limit + 1) // 2)
            chosen = list(islice(self._eligible(trending, first_day, blocked), share))
        taken = set(chosen)
        for i in matched:
            if len(chosen) >= limit:
                break
            if i not in taken:
                chosen.append(i)
                taken.add(i)
        if prefs.trending and len(chosen) < limit:
            for i in self._eligible(trending, first_day, blocked):
                if len(chosen) >= limit:
                    break
                if i not in taken:
                    chosen.append(i)
                    taken.add(i)
        picks = []
        for i in chosen:
            why = reasons.get(i, [])
            if prefs.trending and i in self.trending_set:
                why = [f"trending, {cards[i].upvotes} upvotes", *why]
            picks.append(Pick(cards[i].pk, "; ".join(why) or "trending"))
        return picks
