"""Trending's score as pure functions: weights, terms and score (docs/trending.md). No
database here: ``reading._queries`` gathers the candidates, this module scores them. Each
window ranks by what its name promises:

    week:  upvote_weight · U / (age + 1) ^ gravity            (upvotes, decayed: HN-style)
         + star_weight   · log10(1 + stars)                    (code activity, where known)
         + recency_weight · 0.5 ^ (age / recency_half_life)    (recency)
    month: upvote_weight · U · 0.5 ^ (age / month_half_life)   (a gentle fade: the month's
         + star_weight   · log10(1 + stars)                     papers by their upvotes)
    all:   upvote_weight · U + star_weight · log10(1 + stars)  (no fading, no recency)

U is Hugging Face's upvotes plus this hub's reader votes; stars are the code repository's
stars; age is in days, from the paper's first listing (else its announcement or submission)
to the end of the newest day that has listings (so a quiet day or old demo data does not age
every paper alike). The week's steep fade would make the month a copy of the week (the
month's most upvoted paper, three weeks old, counted 1% of its upvotes), hence its own.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import Config

WINDOW_DAYS = {"week": 7, "month": 30, "all": None}


@dataclass(frozen=True, slots=True)
class Weights:
    gravity: float = 1.5
    upvote_weight: float = 1.0
    star_weight: float = 0.5
    recency_weight: float = 1.0
    recency_half_life: float = 3.0  # days
    month_half_life: float = 30.0  # days in which the month window's upvotes halve

    @classmethod
    def from_config(cls, config: Config) -> Weights:
        return cls(
            gravity=config.trending_gravity,
            upvote_weight=config.trending_upvote_weight,
            star_weight=config.trending_star_weight,
            recency_weight=config.trending_recency_weight,
            recency_half_life=config.trending_recency_half_life,
            month_half_life=config.trending_month_half_life,
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
    if window == "week":
        decay = (age + 1) ** -weights.gravity
    elif window == "month" and weights.month_half_life > 0:
        decay = 0.5 ** (age / weights.month_half_life)
    else:
        decay = 1.0
    recency = (
        weights.recency_weight * 0.5 ** (age / weights.recency_half_life)
        if window == "week" and weights.recency_half_life > 0
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


def reference_time(newest_day: dt.date | None) -> dt.datetime | None:
    """The end of the newest day with listings (ages are measured up to it), or None."""
    if newest_day is None:
        return None
    return dt.datetime.combine(newest_day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def window_start(reference: dt.datetime, window: str) -> dt.datetime | None:
    """The earliest first listing ``window`` keeps: 7 / 30 days before ``reference`` for
    week and month, None (no limit) for all."""
    days = WINDOW_DAYS[window]
    return reference - dt.timedelta(days=days) if days is not None else None


def rank(
    candidates: Iterable[Candidate], reference: dt.datetime, weights: Weights, window: str
) -> list[Terms]:
    """The candidates listed within ``window`` by score, highest first (ties: younger, then
    by id)."""
    start = window_start(reference, window)
    scored = [
        score(candidate, reference, weights, window)
        for candidate in candidates
        if start is None or candidate.listed_at >= start
    ]
    scored.sort(key=lambda t: (-t.score, t.age_days, t.id))
    return scored


def fade(weights: Weights, window: str) -> str:
    """How ``window`` fades the upvotes U, as the CLI's explanation writes it."""
    if window == "week":
        return f"U/(age+1)^{weights.gravity}"
    if window == "month":
        return f"U·0.5^(age/{weights.month_half_life})"
    return "U"


def formula(weights: Weights, window: str) -> str:
    """The score's formula of ``window`` with these weights, as the JSON API states it."""
    stars = f" + {weights.star_weight}*log10(1+stars)"
    if window == "week":
        return (
            f"{weights.upvote_weight}*upvotes/(age_days+1)^{weights.gravity}{stars}"
            f" + {weights.recency_weight}*0.5^(age_days/{weights.recency_half_life})"
        )
    if window == "month":
        return (
            f"{weights.upvote_weight}*upvotes*0.5^(age_days/{weights.month_half_life}){stars}"
            " (month: a gentle fade, no recency term)"
        )
    return f"{weights.upvote_weight}*upvotes{stars} (all: no fading, no recency term)"
