"""Choosing one subscriber's papers from a run's candidates: pure functions, in memory.

Order: trending papers first where the subscriber chose trending (at most half the digest
when they also chose categories, keywords or authors, so those are not crowded out), then
papers matching their choices, the ones matching more of them first, then by trending score
and day. Never a paper the subscriber has received before, never one listed before the
start of their window (the day after the last day their previous digest covered).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .candidates import MAX_WINDOW_DAYS, Candidates
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

    def pick(
        self, prefs: Preferences, start: dt.date, received: set[int] | frozenset[int] = frozenset()
    ) -> list[Pick]:
        cards = self.candidates.cards
        first_day = start.toordinal()
        limit = prefs.max_papers
        window = limit * 2

        def eligible(i: int) -> bool:
            return self._day_ordinals[i] >= first_day and cards[i].pk not in received

        reasons: dict[int, list[str]] = {}
        sources = [
            *(("category", v, f"new in {v}") for v in prefs.categories),
            *(("keyword", v, f"matches '{v}'") for v in prefs.keywords),
            *(("author", v, f"by {v}") for v in prefs.authors),
        ]
        for kind, value, reason in sources:
            taken = 0
            for i in self._source(kind, value):
                if taken >= window:
                    break
                if eligible(i):
                    reasons.setdefault(i, []).append(reason)
                    taken += 1
        matched = sorted(reasons, key=lambda i: (-len(reasons[i]), self.position[i]))
        chosen: list[int] = []
        if prefs.trending:
            share = limit if not sources else max(1, (limit + 1) // 2)
            for i in self.candidates.trending_order:
                if len(chosen) >= share:
                    break
                if eligible(i):
                    chosen.append(i)
        taken_set = set(chosen)
        for i in matched:
            if len(chosen) >= limit:
                break
            if i not in taken_set:
                chosen.append(i)
                taken_set.add(i)
        if prefs.trending and len(chosen) < limit:
            for i in self.candidates.trending_order:
                if len(chosen) >= limit:
                    break
                if i not in taken_set and eligible(i):
                    chosen.append(i)
                    taken_set.add(i)
        picks = []
        for i in chosen:
            why = list(reasons.get(i, []))
            if prefs.trending and i in self.trending_set:
                why.insert(0, f"trending · {cards[i].upvotes} upvotes")
            picks.append(Pick(cards[i].pk, "; ".join(why) or "trending"))
        return picks
