"""Fusing a keyword (BM25) ranking with a semantic (cosine) ranking.

The default is a weighted sum of normalised scores: each side's scores are min-max scaled
over its own candidates (a paper missing from a side gets 0 there), then
``weight * semantic + (1 - weight) * keyword``. Reciprocal rank fusion is kept for the
evaluation (benchmarks/search_quality.py), which measured the weighted sum better.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

RRF_K = 60
Scale = Callable[[Mapping[int, float]], dict[int, float]]


def normalise(scores: Mapping[int, float]) -> dict[int, float]:
    """Min-max scaled to [0, 1]; a single candidate (or equal scores) gets 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def scale_to_best(scores: Mapping[int, float]) -> dict[int, float]:
    """Each score as a share of the best (BM25 and ts_rank scores are positive): unlike
    min-max scaling, the weakest keyword hit keeps what it earned instead of 0, which let
    any semantic neighbour outrank an exact match. Without a positive score: normalise."""
    if not scores:
        return {}
    best = max(scores.values())
    if best <= 1e-12:
        return normalise(scores)
    return {key: max(0.0, value) / best for key, value in scores.items()}


def fuse_weighted(
    keyword: Mapping[int, float],
    semantic: Mapping[int, float],
    weight: float,
    *,
    keyword_scale: Scale = normalise,
) -> list[tuple[int, float]]:
    """Papers by ``weight * norm(semantic) + (1 - weight) * scale(keyword)``, best first
    (ties: the better semantic score, then the smaller key)."""
    kw, sem = keyword_scale(keyword), normalise(semantic)
    fused = {
        key: weight * sem.get(key, 0.0) + (1.0 - weight) * kw.get(key, 0.0)
        for key in kw.keys() | sem.keys()
    }
    return sorted(fused.items(), key=lambda item: (-item[1], -sem.get(item[0], 0.0), item[0]))


def fuse_rrf(
    keyword: Mapping[int, float], semantic: Mapping[int, float], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: sum of ``1 / (k + rank)`` over the two rankings."""
    fused: dict[int, float] = {}
    for ranking in (keyword, semantic):
        ordered = sorted(ranking.items(), key=lambda item: (-item[1], item[0]))
        for rank, (key, _score) in enumerate(ordered, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
