"""Hybrid search: keyword and semantic candidates fused into one ranking that pages.

A fused order depends on its candidates: each side's scores are scaled over them, and a
larger window brings papers in. A page deeper than the first needs more candidates, so
ranking each page over its own window moved papers from page 1 onto page 2 (and past
others). The ranking is built instead block by block, each block ending where the results
reach ``BLOCK * 2**j`` (20, 40, 80, ...): block ``j`` is the best of the papers not yet
placed, fused over twice as many candidates a side as results up to its end. A block is the
same whatever page asks for it, so pages neither repeat nor skip a paper; the first block is
the ranking a first page of BLOCK always had, and a deep page costs a few blocks, not one a
page. (The keyword side's candidates of a block come from a ranking of at most
PREFIX_STABLE, or of exactly the block's: past that limit a ranking's first papers move.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from ._index import VectorIndex
from ._named import first
from ._semantic import F32, SEMANTIC_WINDOW, semantic_ranking
from .fusion import fuse_weighted, scale_to_best
from .keyword import PREFIX_STABLE, KeywordHit, matching
from .query import Query

# Candidates a side for the first block of results (BLOCK = half of them); a block's
# candidates are twice the results up to its end.
CANDIDATES = 40
BLOCK = CANDIDATES // 2
# Keyword matches past which the close papers are not checked against them (the total is
# then the keyword matches alone, marked "about").
MATCHING_MAX = 5_000

Lift = Callable[[Sequence[KeywordHit]], list[int]]
Rank = Callable[[int], list[KeywordHit]]


@dataclass(frozen=True, slots=True)
class Fused:
    """A hybrid ranking: the first ``wanted`` papers at least (those named first), best
    first; the keyword hits among the candidates (no snippets yet); how many candidates
    share no word with the query but are close in meaning, and whether those were all the
    close ones (the candidates ran out or fell under the floor before the end)."""

    ranked: list[tuple[int, float]]
    keyword: dict[int, KeywordHit]
    close_only: int
    close_exact: bool


def hybrid_candidates(wanted: int) -> int:
    """Candidates a side for the first ``wanted`` hybrid results (whole blocks)."""
    end = BLOCK
    while end < wanted:
        end *= 2
    return 2 * end


def semantic_window(wanted: int) -> int:
    """The ``k`` hybrid_ranking asks semantic_ranking for, for the first ``wanted``."""
    return max(hybrid_candidates(wanted), SEMANTIC_WINDOW)


def hybrid_ranking(
    connection: Connection,
    index: VectorIndex,
    vector: F32,
    query: Query,
    wanted: int,
    weight: float,
    floor: float,
    keyword_hits: list[KeywordHit],
    named: Lift,
    keyword_total: int = 0,
    nearest: list[tuple[int, float]] | None = None,
    rank: Rank | None = None,
    matches: Sequence[int] | None = None,
) -> Fused:
    """Keyword and semantic candidates (enough for the first ``wanted`` results) fused by a
    weighted sum, block by block (see the module docstring): keyword scores as a share of
    the best one, cosines min-max scaled. Keyword hits missing from the semantic
    candidates get their exact cosine; semantic candidates without the query's words must
    reach ``floor``. ``keyword_hits``: the keyword side's candidates (hybrid_candidates);
    ``named``: the pks a block's keyword hits name, put first in the block (Named.among);
    ``keyword_total``: the query's keyword matches; ``nearest``: the index's nearest papers
    to ``vector``, searched already (the service searches them on a worker thread while the
    keyword side ranks: semantic_window); ``rank``: the keyword side's ranking of a given
    limit, for blocks that ``keyword_hits`` cannot serve (past PREFIX_STABLE); ``matches``:
    every keyword match, where the count listed them (Counted.matches)."""
    fetched = hybrid_candidates(wanted)
    keyword_hits = keyword_hits[:fetched]
    # The close papers are counted over a fixed window: the total stays put from page to page.
    window = semantic_ranking(connection, index, vector, query, semantic_window(wanted), nearest)
    words = {hit.pk for hit in keyword_hits}
    close = [pk for pk, s in window[:SEMANTIC_WINDOW] if s >= floor and pk not in words]
    if close and keyword_total > len(keyword_hits):
        # Some matches are not among the keyword candidates: ask which close ones match
        # (reading the matches' posting lists: not for a very common word's).
        if matches is not None:  # (listed by the count already)
            listed = set(matches)
            close = [pk for pk in close if pk not in listed]
        elif keyword_total > MATCHING_MAX:
            close = []
        else:
            matched = matching(connection, query, close)  # (once: not once a paper)
            close = [pk for pk in close if pk not in matched]
    blocks = _Blocks(index, vector, keyword_hits, fetched, rank, window, weight, floor, named)
    counted = window[:SEMANTIC_WINDOW]
    exact = keyword_total <= MATCHING_MAX and (
        len(counted) < SEMANTIC_WINDOW or counted[-1][1] < floor
    )
    keyword = {hit.pk: hit for hit in keyword_hits}
    return Fused(blocks.ranked(wanted), keyword, len(close), exact)


@dataclass(slots=True)
class _Blocks:
    """The candidates of one hybrid search, ranked block by block."""

    index: VectorIndex
    vector: F32
    keyword_hits: list[KeywordHit]
    fetched: int  # the limit keyword_hits were ranked with
    rank: Rank | None
    window: list[tuple[int, float]]
    weight: float
    floor: float
    named: Lift
    cosines: dict[int, float] = field(default_factory=dict)  # exact, keyword hits' (memo)
    rankings: dict[int, list[KeywordHit]] = field(default_factory=dict)  # by limit (memo)

    def ranked(self, wanted: int) -> list[tuple[int, float]]:
        """The first ``wanted`` papers (all of them once the candidates run out), each
        block's scores capped by the last block's so that they still descend."""
        placed: list[tuple[int, float]] = []
        seen: set[int] = set()
        end = BLOCK
        while len(placed) < wanted:
            k = 2 * end
            hits = self._keyword(k)
            last = len(hits) < k and k >= len(self.window)
            fresh = [(pk, s) for pk, s in self._fused(hits, k) if pk not in seen]
            ceiling = placed[-1][1] if placed else float("inf")
            for pk, score in fresh if last else fresh[: end - len(placed)]:
                placed.append((pk, min(score, ceiling)))
                ceiling = placed[-1][1]
                seen.add(pk)
            if last:
                break
            end *= 2
        return placed

    def _keyword(self, k: int) -> list[KeywordHit]:
        """The keyword side's first ``k`` candidates, from a ranking whose first ``k`` are
        the same whatever its limit (up to PREFIX_STABLE), or of limit ``k``."""
        if self.fetched <= PREFIX_STABLE or k == self.fetched or self.rank is None:
            return self.keyword_hits[:k]
        limit = k
        if k <= PREFIX_STABLE:  # (one ranking for all such blocks)
            while 2 * limit <= PREFIX_STABLE:
                limit *= 2
        if limit not in self.rankings:
            self.rankings[limit] = self.rank(limit)
        return self.rankings[limit][:k]

    def _fused(self, hits: list[KeywordHit], k: int) -> list[tuple[int, float]]:
        """Every candidate of the first ``k`` a side, fused, those named first."""
        keyword = {hit.pk: hit.score for hit in hits}
        nearest = self.window[:k]
        semantic = {pk: s for pk, s in nearest if pk in keyword or s >= self.floor}
        if nearest:
            lowest = min(score for _, score in nearest)
            for pk, cosine in self._cosines([pk for pk in keyword if pk not in semantic]):
                semantic[pk] = max(cosine, lowest)
        fused = fuse_weighted(keyword, semantic, self.weight, keyword_scale=scale_to_best)
        return first(fused, self.named(hits))

    def _cosines(self, pks: list[int]) -> list[tuple[int, float]]:
        """Exact cosines of these papers with the query (those indexed)."""
        unknown = [pk for pk in pks if pk not in self.cosines]
        if unknown:
            self.cosines.update(self.index.scores(self.vector, unknown))
        return [(pk, self.cosines[pk]) for pk in pks if pk in self.cosines]
