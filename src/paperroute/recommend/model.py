"""The recommendation part's plain types: what a reader's profile holds, what a pick says."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

SeedKind = Literal["library", "upvote", "saved", "more_like_this"]
SEED_KINDS: tuple[SeedKind, ...] = ("library", "upvote", "saved", "more_like_this")


@dataclass(frozen=True, slots=True)
class Seed:
    """A paper the reader showed interest in. ``added`` is when (the day it was added to the
    library, upvoted, saved or asked "more like this"); without it, the paper's own date
    stands in. ``weight`` scales its pull (1.0 unless a signal says otherwise)."""

    paper_id: str
    kind: SeedKind = "library"
    weight: float = 1.0
    added: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything the ranker knows about one reader.

    ``seeds``: papers of interest; ``negatives``: ids of papers marked "not interested"
    (papers close to them are pushed down, and they are never picked); ``authors``: followed
    author names as written; ``categories``: followed categories (``cs.CL``)."""

    seeds: tuple[Seed, ...] = ()
    negatives: frozenset[str] = field(default_factory=frozenset)
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.seeds or self.authors or self.categories)


@dataclass(frozen=True, slots=True)
class Pick:
    """One recommended paper, best first in a list. ``reason`` is for the reader ("close to
    <Title>", "you follow cs.CL", "by <Author> you follow", "trending in your topics");
    ``reason_paper_id`` names the seed paper a "close to" reason points at."""

    paper_id: str
    title: str
    score: float
    reason: str
    reason_paper_id: str | None = None
