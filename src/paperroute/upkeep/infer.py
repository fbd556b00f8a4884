"""Categories inferred from neighbours: pure functions over vectors, no database.

A paper without categories of its own gets those of its ``k`` nearest categorised papers
(cosine similarity of unit MiniLM vectors), each neighbour voting with its similarity: its
primary category a full vote, its cross-lists half a vote. A category's confidence is its
share of the neighbours' total vote (0 to 1); those reaching ``threshold`` are inferred, at
most ``MAX_INFERRED`` of them, most confident first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
MAX_INFERRED = 3
CROSS_LIST_WEIGHT = 0.5
_CHUNK = 512

Inferred = tuple[tuple[str, float], ...]


def vote(
    similarities: Sequence[float], labels: Sequence[Sequence[str]], threshold: float
) -> Inferred:
    """The categories the neighbours (their similarities and categories, primary first)
    vote for, with their confidence, most confident first (ties by name)."""
    weights: dict[str, float] = {}
    total = 0.0
    for similarity, categories in zip(similarities, labels, strict=True):
        if similarity <= 0 or not categories:
            continue
        total += similarity
        for position, category in enumerate(categories):
            share = 1.0 if position == 0 else CROSS_LIST_WEIGHT
            weights[category] = weights.get(category, 0.0) + similarity * share
    if total <= 0:
        return ()
    ranked = sorted(((c, w / total) for c, w in weights.items()), key=lambda x: (-x[1], x[0]))
    return tuple((c, round(min(w, 1.0), 6)) for c, w in ranked if w >= threshold)[:MAX_INFERRED]


def infer(
    known: F32,
    labels: Sequence[Sequence[str]],
    targets: F32,
    *,
    k: int,
    threshold: float,
    exclude: Sequence[int] | None = None,
) -> list[Inferred]:
    """For each row of ``targets``, the categories its ``k`` nearest rows of ``known`` (with
    ``labels``) vote for. ``exclude[i]``: a row of ``known`` target ``i`` may not use (itself,
    when the targets are the known papers held out one at a time)."""
    found: list[Inferred] = []
    if len(known) == 0 or len(targets) == 0:
        return [() for _ in range(len(targets))]
    take = min(k + (1 if exclude is not None else 0), len(known))
    for start in range(0, len(targets), _CHUNK):
        block = targets[start : start + _CHUNK] @ known.T
        if exclude is not None:
            rows = np.arange(block.shape[0])
            block[rows, np.asarray(exclude[start : start + _CHUNK])] = -np.inf
        nearest = np.argpartition(-block, take - 1, axis=1)[:, :take]
        for row, columns in enumerate(nearest):
            sims = block[row, columns]
            order = np.lexsort((columns, -sims))[:k]  # ties: the lower row first, stably
            chosen = columns[order]
            found.append(
                vote(
                    [float(s) for s in block[row, chosen]],
                    [labels[int(c)] for c in chosen],
                    threshold,
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Inference measured on papers whose categories are known, each held out in turn."""

    papers: int  # categorised papers with a vector
    answered: int  # those the inference gave at least one category
    top_in_categories: int  # answered whose top inferred category is one of their own
    top_is_primary: int  # answered whose top inferred category is their primary one

    @property
    def coverage(self) -> float:
        return self.answered / self.papers if self.papers else 0.0

    @property
    def precision(self) -> float:
        """Precision of the top inferred category (among one of the paper's categories)."""
        return self.top_in_categories / self.answered if self.answered else 0.0

    @property
    def primary_precision(self) -> float:
        return self.top_is_primary / self.answered if self.answered else 0.0


def holdout(
    known: F32,
    labels: Sequence[Sequence[str]],
    *,
    k: int,
    threshold: float,
    among: Sequence[bool] | None = None,
) -> Accuracy:
    """Infer each known paper's categories from all the others and compare with its own;
    with ``among``, measure only the papers it marks (every paper still votes)."""
    rows = [i for i in range(len(known)) if among is None or among[i]]
    inferred = infer(known, labels, known[rows], k=k, threshold=threshold, exclude=rows)
    answered = [(got, labels[i]) for got, i in zip(inferred, rows, strict=True) if got]
    return Accuracy(
        papers=len(rows),
        answered=len(answered),
        top_in_categories=sum(1 for got, own in answered if got[0][0] in own),
        top_is_primary=sum(1 for got, own in answered if own and got[0][0] == own[0]),
    )
