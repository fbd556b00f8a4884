"""The nearest-seed side of the ranking: how close a candidate is to each of a reader's seed
papers on its own, not to their summed term profile.

The term profile (``ranking.model_term_scores``) sums a library's terms into one query, so
a candidate close to one seed of a narrow sub-topic scores below one that shares a few
common terms with many seeds. Here each term seed is its own query: its term bag as a unit
tf-idf vector (sublinear tf, the store's idf, the l2 norm over its whole bag, so a long
abstract does not outweigh a short one) against the candidates' BM25 term weights times
idf; each seed keeps its ``seed_near`` best candidates, their closeness raised to
``seed_power`` (a candidate very close to one seed beats one loosely close to several),
and a reader's score is their sum weighed as the term seeds are. It is added to the rest of
the score at ``seed_weight`` times the ratio of the two's spreads (standard deviations over
the candidates): the same order as summing the two z-scores, ``z(rest) + seed_weight *
z(seed side)``, without changing the rest's scale (follows and "not interested" keep their
meaning). On ``benchmarks/recommend_quality.py``'s tuning half (639 authors) it found
more of an author's later papers, recall@50 0.2534 -> 0.2695, nDCG@50 0.1886 -> 0.1928; see
docs/recommend.md.

Seeds are scored once for all readers (``nearest``): a day's digests share most seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse  # type: ignore[import-untyped]

from ._term_index import TermIndex
from .settings import RankSettings

if TYPE_CHECKING:
    from .ranking import ReaderModel

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
Bag = tuple[U32, npt.NDArray[np.uint8]]
_CHUNK = 2048  # seeds scored at a time (a dense chunk of 2048 x candidates)
_UNITS = 20_000  # seed bags made unit vectors at a time


def seed_units(keys: Sequence[int], seed_bags: Mapping[int, Bag], index: TermIndex) -> Any:
    """A sparse (seeds, index terms) matrix: each seed's bag as a unit tf-idf vector (tf
    1 + ln count, the index's idf, see ``TermIndex.idf_of``; the norm over the whole bag),
    only the terms some candidate holds kept."""
    pieces = [sparse.csr_matrix((0, len(index.terms)), dtype=np.float32)]
    for start in range(0, len(keys), _UNITS):
        bags = [seed_bags[key] for key in keys[start : start + _UNITS]]
        hashes = np.concatenate([b[0] for b in bags] + [np.zeros(0, np.uint32)])
        counts = np.concatenate([b[1] for b in bags] + [np.zeros(0, np.uint8)])
        owner = np.repeat(np.arange(len(bags)), [len(b[0]) for b in bags])
        weight = (1.0 + np.log(counts.astype(np.float32))) * index.idf_of(hashes)
        norm = np.sqrt(np.bincount(owner, weights=weight * weight, minlength=len(bags)))
        hit, at = index.lookup(hashes)
        hit &= norm[owner] > 0
        values = (weight[hit] / norm[owner[hit]]).astype(np.float32)
        pieces.append(
            sparse.csr_matrix((values, (owner[hit], at[hit])), shape=(len(bags), len(index.terms)))
        )
    return sparse.vstack(pieces, format="csr", dtype=np.float32)


def nearest(units: Any, index: TermIndex, settings: RankSettings, workers: int = 1) -> Any:
    """A sparse (seeds, candidates) matrix: each seed's ``seed_near`` closest candidates
    (its unit vector against their BM25 term weights times idf; terms held by more than
    ``seed_max_df`` of the candidates left out), the closeness raised to ``seed_power``.
    Chunks of seeds go to ``workers`` threads (scipy and numpy release the GIL)."""
    seeds = units.shape[0]
    if not seeds or not index.count or not len(index.terms):
        return sparse.csr_matrix((seeds, index.count), dtype=np.float32)
    posting_term = np.repeat(np.arange(len(index.terms)), np.diff(index.starts))
    candidates = sparse.csr_matrix(
        (index.values * index.idf[posting_term], index.docs, index.starts),
        shape=(len(index.terms), index.count),
    )
    scale = np.where(index.held_by <= settings.seed_max_df * index.count, 1.0, 0.0)
    queries = (units @ sparse.diags(scale.astype(np.float32))).tocsr()
    queries.eliminate_zeros()
    keep = min(max(settings.seed_near, 1), index.count)

    def chunk(start: int) -> Any:
        close = (queries[start : start + _CHUNK] @ candidates).toarray()
        if keep < index.count:
            kth = -np.partition(-close, keep - 1, axis=1)[:, keep - 1 : keep]
            close[close < kth] = 0.0
        np.maximum(close, 0.0, out=close)
        return sparse.csr_matrix(close.astype(np.float32) ** settings.seed_power)

    starts = range(0, seeds, _CHUNK)
    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(workers) as pool:
            pieces = list(pool.map(chunk, starts))
    else:
        pieces = [chunk(start) for start in starts]
    return sparse.vstack(pieces, format="csr")


def seed_scores(models: Sequence[ReaderModel], keys: I64, near: Any) -> F32:
    """(readers, candidates): the sum over each reader's term seeds (rows of ``near`` by
    their ``keys``, sorted) of the seed's weight times its row."""
    readers, count = len(models), near.shape[1]
    if not len(keys) or not readers:
        return np.zeros((readers, count), dtype=np.float32)
    seed_keys = np.concatenate([m.term_keys for m in models] + [np.zeros(0, np.int64)])
    weights = np.concatenate([m.term_weights for m in models] + [np.zeros(0, np.float32)])
    owner = np.repeat(np.arange(readers), [len(m.term_keys) for m in models])
    at = np.minimum(np.searchsorted(keys, seed_keys), len(keys) - 1)
    found = keys[at] == seed_keys
    chosen = sparse.csr_matrix(
        (weights[found], (owner[found], at[found])), shape=(readers, len(keys))
    )
    out: F32 = np.asarray((chosen @ near).toarray(), dtype=np.float32)
    return out


def add_seed_side(score: F32, side: F32, settings: RankSettings) -> None:
    """``score`` += ``seed_weight`` times the ratio of the rows' standard deviations times
    ``side``, row by row (in place): the order of z(score) + seed_weight * z(side)."""
    if settings.seed_weight <= 0 or not score.shape[1]:
        return
    spread = score.std(axis=1, dtype=np.float64)
    side_spread = side.std(axis=1, dtype=np.float64)
    ratio = np.divide(
        settings.seed_weight * spread,
        side_spread,
        out=np.zeros_like(spread),
        where=side_spread > 0,
    )
    score += (ratio[:, None] * side).astype(np.float32)
