"""search.fusion: the pure scoring that merges a keyword and a semantic ranking."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperroute.search.fusion import RRF_K, fuse_rrf, fuse_weighted, normalise, scale_to_best

Scores = st.dictionaries(
    st.integers(min_value=0, max_value=50),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    max_size=30,
)


def test_normalise_scales_to_the_unit_interval() -> None:
    assert normalise({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}


def test_normalise_of_nothing_and_of_equal_scores() -> None:
    assert normalise({}) == {}
    assert normalise({7: 0.3}) == {7: 1.0}
    assert normalise({1: 5.0, 2: 5.0}) == {1: 1.0, 2: 1.0}


@given(Scores)
def test_normalise_keeps_order_and_bounds(scores: dict[int, float]) -> None:
    scaled = normalise(scores)
    assert scaled.keys() == scores.keys()
    assert all(0.0 <= v <= 1.0 for v in scaled.values())
    for a in scores:
        for b in scores:
            if scores[a] < scores[b]:
                assert scaled[a] <= scaled[b]
    if scores and max(scores.values()) - min(scores.values()) > 1e-12:
        assert min(scaled.values()) == 0.0
        assert max(scaled.values()) == 1.0


def test_weighted_fusion_mixes_the_two_sides_by_weight() -> None:
    keyword = {1: 10.0, 2: 5.0, 3: 0.0}
    semantic = {3: 0.9, 2: 0.5, 1: 0.1}
    # Normalised: keyword 1 -> 1, 2 -> 0.5, 3 -> 0; semantic 3 -> 1, 2 -> 0.5, 1 -> 0.
    fused = dict(fuse_weighted(keyword, semantic, 0.25))
    assert fused[1] == pytest.approx(0.75)
    assert fused[2] == pytest.approx(0.5)
    assert fused[3] == pytest.approx(0.25)
    assert [key for key, _ in fuse_weighted(keyword, semantic, 0.25)] == [1, 2, 3]
    assert [key for key, _ in fuse_weighted(keyword, semantic, 0.75)] == [3, 2, 1]


def test_weight_zero_and_one_give_one_side_alone() -> None:
    keyword = {1: 3.0, 2: 2.0, 3: 1.0}
    semantic = {3: 0.9, 1: 0.8, 4: 0.1}
    assert [k for k, _ in fuse_weighted(keyword, semantic, 0.0)][:3] == [1, 2, 3]
    # Semantic alone: 4 scales to 0, as low as 2, which has no semantic score at all.
    assert [k for k, _ in fuse_weighted(keyword, semantic, 1.0)] == [3, 1, 2, 4]


def test_a_paper_on_one_side_only_gets_zero_on_the_other() -> None:
    fused = dict(fuse_weighted({1: 2.0, 2: 1.0}, {3: 0.7, 4: 0.2}, 0.5))
    assert fused == {1: 0.5, 2: 0.0, 3: 0.5, 4: 0.0}


def test_weighted_ties_break_on_semantic_score_then_key() -> None:
    # 1 and 2 tie on the fused score; 2 has the better semantic score.
    ranked = fuse_weighted({1: 1.0, 2: 0.0}, {2: 1.0, 1: 0.0}, 0.5)
    assert [key for key, _ in ranked] == [2, 1]
    # Full tie: the smaller key first.
    assert [k for k, _ in fuse_weighted({5: 1.0, 4: 1.0}, {}, 0.5)] == [4, 5]


@given(Scores, Scores, st.floats(min_value=0.0, max_value=1.0))
def test_weighted_fusion_covers_both_sides_sorted(
    keyword: dict[int, float], semantic: dict[int, float], weight: float
) -> None:
    ranked = fuse_weighted(keyword, semantic, weight)
    assert {key for key, _ in ranked} == keyword.keys() | semantic.keys()
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(-1e-9 <= score <= 1.0 + 1e-9 for score in scores)


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = dict(fuse_rrf({1: 9.0, 2: 8.0}, {2: 0.9, 3: 0.1}))
    assert fused[1] == pytest.approx(1 / (RRF_K + 1))
    assert fused[2] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused[3] == pytest.approx(1 / (RRF_K + 2))
    assert [key for key, _ in fuse_rrf({1: 9.0, 2: 8.0}, {2: 0.9, 3: 0.1})] == [2, 1, 3]


def test_rrf_ignores_score_scale() -> None:
    a = fuse_rrf({1: 1000.0, 2: 1.0}, {2: 0.5, 1: 0.4}, k=10)
    b = fuse_rrf({1: 2.0, 2: 1.9}, {2: 99.0, 1: -5.0}, k=10)
    assert a == b
    assert math.isclose(a[0][1], 1 / 11 + 1 / 12)


def test_scale_to_best_keeps_the_weakest_keyword_hit_above_zero() -> None:
    assert scale_to_best({1: 13.447, 2: 13.187}) == pytest.approx({1: 1.0, 2: 13.187 / 13.447})
    assert scale_to_best({}) == {}
    assert scale_to_best({1: 0.0, 2: 0.0}) == {1: 1.0, 2: 1.0}  # filters only: all alike
    # Min-max gave the second keyword hit 0: a semantic-only paper outranked it.
    keyword = {1: 13.447, 2: 13.187}
    semantic = {1: 0.2, 2: 0.15, 3: 0.3}
    assert [k for k, _ in fuse_weighted(keyword, semantic, 0.3)] == [1, 3, 2]
    fused = fuse_weighted(keyword, semantic, 0.3, keyword_scale=scale_to_best)
    assert [k for k, _ in fused] == [1, 2, 3]
