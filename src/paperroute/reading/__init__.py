"""Reading the hub as a reader does (``hub.reading``): daily / weekly / monthly listings,
trending and one paper's score, authors, categories and cards.

Public: the ``Reading`` service and its result types, trending's pure scoring
(``scoring``), and ``sql``, the building blocks other features (digests) compose their own
queries with. ``_queries`` (the SQL) and ``_version`` are internal.
"""

from __future__ import annotations

from ._queries import MAX_PAGE, storable
from .model import (
    SNIPPET_CHARS,
    SORTS,
    Author,
    Card,
    Day,
    DaySlice,
    ListView,
    Page,
    PaperView,
    Period,
    Trending,
)
from .scoring import WINDOW_DAYS, Candidate, Terms, Weights, score
from .service import Reading

__all__ = [
    "MAX_PAGE",
    "SNIPPET_CHARS",
    "SORTS",
    "WINDOW_DAYS",
    "Author",
    "Candidate",
    "Card",
    "Day",
    "DaySlice",
    "ListView",
    "Page",
    "PaperView",
    "Period",
    "Reading",
    "Terms",
    "Trending",
    "Weights",
    "score",
    "storable",
]
