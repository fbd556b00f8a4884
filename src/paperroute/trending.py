"""Trending: a documented, configurable score (docs/trending.md), shared by the web pages, the
API, the feeds and ``paperroute trending``.

    score = upvote_weight · U / (age + 1) ^ gravity          (upvotes, decayed: HN-style)
          + star_weight   · log10(1 + stars)                  (code activity, where known)
          + recency_weight · 0.5 ^ (age / recency_half_life)  (recency)

U is Hugging Face's upvotes plus this hub's reader votes; stars are the code repository's
stars; age is in days, from the paper's first listing (else its announcement or submission)
to the end of the newest day that has listings (so a quiet day or old demo data does not age
every paper alike). The ``all`` window ranks without decay or recency: the best of all time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, func, or_, select

from .browse import newest_day, visible
from .config import Config
from .store.schema import daily_entries, papers
from .store.schema_community import votes
from .store.types import as_date

WINDOW_DAYS = {"week": 7, "month": 30, "all": None}


@dataclass(frozen=True, slots=True)
class Weights:
    gravity: float = 1.5
    upvote_weight: float = 1.0
    star_weight: float = 0.5
    recency_weight: float = 1.0
    recency_half_life: float = 3.0  # days

    @classmethod
    def from_config(cls, config: Config) -> Weights:
        return cls(
            gravity=config.trending_gravity,
            upvote_weight=config.trending_upvote_weight,
            star_weight=config.trending_star_weight,
            recency_weight=config.trending_recency_weight,
            recency_half_life=config.trending_recency_half_life,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the score of one paper is computed from."""

    pk: int
    id: str
    hf_upvotes: int
    votes: int
    stars: int | None
    listed_at: dt.datetime  # UTC


@dataclass(frozen=True, slots=True)
class Terms:
    """One paper's score, term by term (``paperroute trending --explain``)."""

    pk: int
    id: str
    upvotes: int
    hf_upvotes: int
    votes: int
    stars: int | None
    age_days: float
    upvote_term: float
    star_term: float
    recency_term: float

    @property
    def score(self) -> float:
        return self.upvote_term + self.star_term + self.recency_term


def score(candidate: Candidate, reference: dt.datetime, weights: Weights, window: str) -> Terms:
    """The terms of one paper's score at ``reference`` (a pure function)."""
    age = max(0.0, (reference - candidate.listed_at).total_seconds() / 86400)
    upvotes = candidate.hf_upvotes + candidate.votes
    decayed = window != "all"
    decay = (age + 1) ** -weights.gravity if decayed else 1.0
    recency = (
        weights.recency_weight * 0.5 ** (age / weights.recency_half_life)
        if decayed and weights.recency_half_life > 0
        else 0.0
    )
    return Terms(
        pk=candidate.pk,
        id=candidate.id,
        upvotes=upvotes,
        hf_upvotes=candidate.hf_upvotes,
        votes=candidate.votes,
        stars=candidate.stars,
        age_days=age,
        upvote_term=weights.upvote_weight * upvotes * decay,
        star_term=weights.star_weight * math.log10(1 + max(0, candidate.stars or 0)),
        recency_term=recency,
    )


def reference_time(connection: Connection) -> dt.datetime | None:
    """The end of the newest day with listings: ages are measured up to it."""
    day = newest_day(connection)
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _midnight(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(as_date(value) or dt.date.min, dt.time(), tzinfo=dt.UTC)


def candidates(
    connection: Connection,
    pks: Iterable[int] | None = None,
    since: dt.datetime | None = None,
    *,
    signals_only: bool = False,
) -> list[Candidate]:
    """Every visible paper (or those of ``pks``) with what its score needs; with ``since``,
    at least those listed since then (the database narrows the set, the caller filters);
    with ``signals_only``, only papers with an upvote, a reader vote or code stars."""
    entries = (
        select(
            daily_entries.c.paper_pk.label("pk"),
            func.min(daily_entries.c.day).label("first_day"),
            func.max(
                case((daily_entries.c.source == "hf", daily_entries.c.upvotes), else_=None)
            ).label("up"),
        )
        .group_by(daily_entries.c.paper_pk)
        .subquery()
    )
    reader = select(votes.c.paper_pk, func.count().label("n")).group_by(votes.c.paper_pk)
    reader_votes = reader.subquery()
    query = (
        select(
            papers.c.pk,
            papers.c.id,
            papers.c.code_stars,
            papers.c.announced_on,
            papers.c.submitted_at,
            papers.c.created_at,
            entries.c.first_day,
            entries.c.up,
            reader_votes.c.n,
        )
        .outerjoin(entries, entries.c.pk == papers.c.pk)
        .outerjoin(reader_votes, reader_votes.c.paper_pk == papers.c.pk)
        .where(visible(papers.c.pk))
    )
    if pks is not None:
        query = query.where(papers.c.pk.in_(list(pks)))
    if signals_only:
        query = query.where(or_(entries.c.up > 0, reader_votes.c.n > 0, papers.c.code_stars > 0))
    if since is not None:
        recent = select(daily_entries.c.paper_pk).where(daily_entries.c.day >= since.date())
        unlisted = entries.c.first_day.is_(None)
        query = query.where(
            or_(
                papers.c.pk.in_(recent),
                and_(unlisted, papers.c.announced_on >= since.date()),
                and_(unlisted, papers.c.announced_on.is_(None), papers.c.submitted_at >= since),
                and_(
                    unlisted,
                    papers.c.announced_on.is_(None),
                    papers.c.submitted_at.is_(None),
                    papers.c.created_at >= since,
                ),
            )
        )
    found = []
    for row in connection.execute(query):
        listed = (
            _midnight(row.first_day)
            or _midnight(row.announced_on)
            or _midnight(row.submitted_at)
            or _midnight(row.created_at)
        )
        assert listed is not None  # created_at is never null
        found.append(Candidate(row.pk, row.id, row.up or 0, row.n or 0, row.code_stars, listed))
    return found


def rank(connection: Connection, weights: Weights, window: str) -> list[Terms]:
    """Papers of ``window`` by score, highest first: week and month, every paper first listed
    in their last 7 / 30 days; all, every paper with an upvote, a reader vote or code stars."""
    reference = reference_time(connection)
    if reference is None:
        reference = dt.datetime.now(dt.UTC)
    days = WINDOW_DAYS[window]
    start = reference - dt.timedelta(days=days) if days is not None else None
    scored = [
        score(candidate, reference, weights, window)
        for candidate in candidates(connection, since=start, signals_only=window == "all")
        if start is None or candidate.listed_at >= start
    ]
    scored.sort(key=lambda t: (-t.score, t.age_days, t.id))
    return scored


def scores_for(
    connection: Connection, weights: Weights, pks: Iterable[int], window: str
) -> dict[int, Terms]:
    """The terms of each visible paper of ``pks`` (hidden and unknown ones are absent)."""
    reference = reference_time(connection) or dt.datetime.now(dt.UTC)
    return {
        candidate.pk: score(candidate, reference, weights, window)
        for candidate in candidates(connection, pks)
    }


def explain(connection: Connection, weights: Weights, pk: int, window: str) -> Terms | None:
    """One paper's terms (None when it is hidden or unknown)."""
    return scores_for(connection, weights, [pk], window).get(pk)
