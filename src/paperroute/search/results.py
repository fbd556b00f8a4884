"""What a search answers: its modes, a page of results with its total, similar papers and
the search box's names; how a page's total is told (an estimate raised to what was shown,
named papers beyond the matches, what no paper has)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .keyword import TOTAL_CAP, KeywordHit
from .query import Query

MAX_SEARCH_LIMIT = 200
# How deep results can be paged (as search engines cap their windows): deeper pages rank
# every match before them.
MAX_WINDOW = TOTAL_CAP


class Mode(StrEnum):
    keyword = "keyword"
    semantic = "semantic"
    hybrid = "hybrid"


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of results. ``total``: the keyword matches (exact) plus, in the semantic
    and hybrid modes, the papers close in meaning among the candidates (``total_exact``
    false when more may lie beyond them: "about"). ``suggestion``: the corrected query the
    results are for, when the query as typed matched nothing ("did you mean");
    ``did_you_mean``: that correction offered, not searched (the query searched as typed)."""

    query: Query
    hits: tuple[KeywordHit, ...]
    notices: tuple[str, ...]
    mode: Mode = Mode.keyword  # the mode that produced the hits (hybrid may fall back)
    total: int = 0
    total_exact: bool = True
    offset: int = 0
    suggestion: str | None = None
    did_you_mean: str | None = None

    @property
    def open_ended(self) -> bool:
        """Whether results may lie past the total, an estimate (not the Meaning mode's,
        whose estimate is of its window of the closest papers, which ends there)."""
        return not self.total_exact and self.mode is not Mode.semantic


def lacking(query: Query) -> str:
    """What no paper has, said of a query its keyword side matches nothing of (and that
    names no paper): the filters and exclusions named, as they may be what left none."""
    terms = query.positive
    if len(terms) == 1 and terms[0].phrase:
        phrase = terms[0].text
        shown = phrase if len(phrase) <= 100 else phrase[:100].rstrip() + "…"
        what = f"the exact phrase “{shown}”"
    elif len(terms) == 1:
        what = "this word"
    else:
        phrases = " and phrases" if any(term.phrase for term in terms) else ""
        what = f"all of these words{phrases}"
    filtered = query.categories or query.authors or query.after or query.before
    limits = [
        name
        for name, present in (
            ("filters", filtered or query.has_code),
            ("exclusions", any(term.negated for term in query.terms)),
        )
        if present
    ]
    if limits:
        return f"no paper that passes the {' and '.join(limits)} has {what}"
    return f"no paper has {what}"


@dataclass(frozen=True, slots=True)
class Names:
    """Search-box suggestions besides papers: (author name, papers), (category, papers)."""

    authors: tuple[tuple[str, int], ...]
    categories: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class SimilarResult:
    paper_id: str  # the paper's id (arXiv id, else its DOI form): what the answers name
    pk: int
    hits: tuple[KeywordHit, ...]
    notices: tuple[str, ...]


def beyond(named: list[int], matches: Mapping[int, object], total: int) -> int:
    """Named papers that are not keyword matches (a paper named by its id), known when
    every one of the ``total`` matches was read: they add to the total."""
    if len(matches) < total:
        return 0
    return sum(1 for pk in named if pk not in matches)


def at_least(total: int, exact: bool, offset: int, hits: list[KeywordHit]) -> tuple[int, bool]:
    """(total, exact), an estimate raised to the papers shown up to this page (an empty
    page past the end leaves it alone); none when the first page is empty."""
    if exact:
        return total, exact
    if not hits:
        return (0, True) if offset == 0 else (total, exact)
    return max(total, offset + len(hits)), exact


def total_text(result: SearchResult) -> str:
    """ "1 result", "334 results", "about 120 results"; the Meaning mode's window of the
    closest papers, all of them close: "the 200 closest results" (not "about 200")."""
    words = f"{result.total:,} result{'' if result.total == 1 else 's'}"
    if result.total_exact:
        return words
    if result.mode is Mode.semantic:
        return f"the {result.total:,} closest results"
    return f"more than {words}" if result.total >= MAX_WINDOW else f"about {words}"
