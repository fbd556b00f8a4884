"""The reading feature's result types: cards, pages of a list, and the listings the
``Reading`` service answers with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .scoring import Terms, Weights

SNIPPET_CHARS = 420
# How a reader may order a list (ListView.sort); None keeps the list's own order.
SORTS = ("upvotes", "newest", "stars")


@dataclass(frozen=True, slots=True)
class ListView:
    """How a reader narrows and orders a daily, weekly, monthly or trending list, the same
    for its page, its feed and the JSON API. ``sort``: None keeps the list's own order
    (upvotes for days, weeks and months; the score for trending), ``"upvotes"`` most
    upvoted first, ``"newest"`` newest submission first, ``"stars"`` most code stars first;
    ``category``: only papers in it (any position, stored spelling); ``has_code``: only
    papers with a code link."""

    sort: str | None = None
    category: str | None = None
    has_code: bool = False

    def __post_init__(self) -> None:
        if self.sort is not None and self.sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, not {self.sort!r}")

    @property
    def is_default(self) -> bool:
        return self == ListView()


@dataclass(frozen=True, slots=True)
class Card:
    """One paper as a list shows it."""

    pk: int
    id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    day: dt.date | None  # the day it was listed (first listing), else announced
    submitted_at: dt.datetime | None
    code_url: str | None
    code_stars: int | None
    project_url: str | None
    abs_url: str | None
    pdf_url: str | None
    hf_upvotes: int
    votes: int  # readers of this hub
    comments: int  # visible comments on this hub
    hf_comments: int
    submitter: str | None
    # Categories inferred from the nearest categorised papers (issue 11), kept apart from a
    # source's own ``categories`` and shown marked; empty once the paper has its own.
    inferred_categories: tuple[str, ...] = ()

    @property
    def upvotes(self) -> int:
        return self.hf_upvotes + self.votes

    @property
    def all_comments(self) -> int:
        """Comments on Hugging Face's discussion plus this hub's visible ones: what every
        page, /api/v1 and /api/daily_papers count (as upvotes add both)."""
        return self.hf_comments + self.comments

    @property
    def snippet(self) -> str:
        """The abstract cut near SNIPPET_CHARS at a word boundary (lists show three lines)."""
        if len(self.abstract) <= SNIPPET_CHARS:
            return self.abstract
        cut = self.abstract[:SNIPPET_CHARS].rsplit(" ", 1)[0]
        return cut.rstrip(" ,;:.") + "…"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a longer list."""

    cards: list[Card]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.cards) < self.total


@dataclass(frozen=True, slots=True)
class Day:
    """One day's listings: Hugging Face's daily papers by upvotes, then a page of the day's
    other arXiv listings."""

    day: dt.date
    hf: list[Card]
    arxiv: Page
    previous_day: dt.date | None
    next_day: dt.date | None


@dataclass(frozen=True, slots=True)
class DaySlice:
    """A stretch of one day's listings read as one list (Hugging Face's, then arXiv's)."""

    day: dt.date
    cards: list[Card]
    total: int
    previous_day: dt.date | None
    next_day: dt.date | None


@dataclass(frozen=True, slots=True)
class Period:
    """A week or a month: a page of its most upvoted papers and its days with listings."""

    top: Page
    days: list[tuple[dt.date, int]]
    has_earlier: bool  # days with listings before the period
    has_later: bool  # days with listings after it


@dataclass(frozen=True, slots=True)
class Trending:
    """A page of the trending ranking: ``ranked`` are the terms of that page's papers in
    order, ``page`` their cards (``page.total``: the length of the whole ranking)."""

    window: str
    weights: Weights
    ranked: list[Terms]
    page: Page

    @property
    def terms(self) -> dict[int, Terms]:
        return {t.pk: t for t in self.ranked}


@dataclass(frozen=True, slots=True)
class Author:
    """An author's stored name and a page of their papers, newest first."""

    name: str
    papers: Page


@dataclass(frozen=True, slots=True)
class PaperView:
    """A visible paper's key, card and this week's trending terms."""

    pk: int
    card: Card
    terms: Terms | None
