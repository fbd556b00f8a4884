"""Categories inferred from neighbours (upkeep/infer.py): the weighted vote, its threshold,
and the held-out measure; pure functions over small hand-made vectors."""

from __future__ import annotations

import numpy as np
import pytest

from paperroute.upkeep.infer import MAX_INFERRED, holdout, infer, vote


def _unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_the_vote_weighs_neighbours_by_similarity_and_primary_first() -> None:
    got = vote([0.9, 0.8, 0.1], [("cs.CL", "cs.AI"), ("cs.CL",), ("cs.CV",)], threshold=0.2)
    total = 0.9 + 0.8 + 0.1
    assert got[0] == ("cs.CL", pytest.approx((0.9 + 0.8) / total, abs=1e-6))
    assert got[1] == ("cs.AI", pytest.approx(0.45 / total, abs=1e-6))  # a cross-list: half
    assert "cs.CV" not in [c for c, _ in got]  # 0.1 of 1.8: below 0.2


def test_below_the_threshold_nothing_is_inferred() -> None:
    split = [("a",), ("b",), ("c",), ("d",)]
    assert vote([0.5, 0.5, 0.5, 0.5], split, threshold=0.3) == ()
    assert vote([0.5, 0.5, 0.5, 0.5], split, threshold=0.25)[0] == ("a", 0.25)
    assert vote([-0.2, 0.0], [("a",), ("b",)], threshold=0.0) == ()  # no similar neighbour
    many = [(f"c{n}",) for n in range(6)]
    assert len(vote([1.0] * 6, many, threshold=0.0)) == MAX_INFERRED


def test_infer_takes_the_nearest_known_papers() -> None:
    known = _unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.1], [0, 0, 1])
    labels = [("cs.CL",), ("cs.CL",), ("cs.CV",), ("cs.CV",), ("math.CO",)]
    targets = _unit([1, 0.05, 0], [0.05, 1, 0.02])
    got = infer(known, labels, targets, k=2, threshold=0.5)
    assert [g[0][0] for g in got] == ["cs.CL", "cs.CV"]
    assert infer(known, labels, targets[:0], k=2, threshold=0.5) == []
    assert infer(known[:0], [], targets, k=2, threshold=0.5) == [(), ()]


def test_holdout_never_lets_a_paper_vote_for_itself() -> None:
    # Each paper's only close neighbour has another category: held out, each gets it wrong.
    known = _unit([1, 0], [0.99, 0.01], [0, 1], [0.01, 0.99])
    labels = [("a",), ("b",), ("c",), ("d",)]
    measured = holdout(known, labels, k=1, threshold=0.5)
    assert (measured.papers, measured.answered, measured.top_in_categories) == (4, 4, 0)
    paired = holdout(known, [("a",), ("a",), ("c",), ("c",)], k=1, threshold=0.5)
    assert paired.precision == 1.0 and paired.primary_precision == 1.0


def test_holdout_among_measures_a_subset_with_everyone_voting() -> None:
    known = _unit([1, 0], [0.99, 0.01], [0, 1], [0.01, 0.99])
    labels = [("a",), ("a",), ("c",), ("d",)]
    subset = holdout(known, labels, k=1, threshold=0.5, among=[True, False, True, False])
    assert (subset.papers, subset.answered, subset.top_in_categories) == (2, 2, 1)
