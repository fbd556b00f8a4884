"""Readers' ranking models kept between digest runs: dropped least recently used past the
byte budget, and never reused once what they were built from changes."""

from __future__ import annotations

import numpy as np

from paperroute.recommend._model_cache import ModelCache, signature
from paperroute.recommend.ranking import ReaderModel


def _model(k: int) -> ReaderModel:
    return ReaderModel(
        np.ones((k, 4), np.float32),
        np.full(k, 1 / k, np.float32),
        np.arange(3, dtype=np.int64),
        np.ones(3, np.float32),
        np.zeros((0, 4), np.float32),
        3,
    )


def test_the_least_recently_used_model_is_dropped_past_the_budget() -> None:
    one = _model(1)
    cache = ModelCache(max_bytes=3 * one.nbytes)
    for key in (b"a", b"b", b"c"):
        cache.put(key, _model(1))
    assert cache.get(b"a") is not None  # now the most recently used
    cache.put(b"d", _model(1))
    assert cache.get(b"b") is None
    assert all(cache.get(k) is not None for k in (b"a", b"c", b"d"))
    cache.put(b"big", _model(20))  # alone over the budget: everything else goes, then it
    assert len(cache) == 0


def test_the_signature_changes_with_anything_a_model_is_built_from() -> None:
    vectors = np.eye(3, 4, dtype=np.float32)
    weights = np.array([0.5, 0.3, 0.2], np.float32)
    base = signature([1, 2, 3], vectors, weights, [9])
    assert signature([1, 2, 3], vectors.copy(), weights.copy(), [9]) == base
    moved = vectors.copy()
    moved[0, 1] = 0.01  # a seed re-embedded
    assert signature([1, 2, 3], moved, weights, [9]) != base
    assert signature([1, 2, 4], vectors, weights, [9]) != base
    assert signature([1, 2, 3], vectors, weights[::-1].copy(), [9]) != base
    assert signature([1, 2, 3], vectors, weights, []) != base
