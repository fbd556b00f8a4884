"""The ranking itself, pure numpy (no database): the same functions rank one reader for
``/for-you``, many readers at once for digests, and the benchmark's readers.

A reader's seeds (library papers, upvotes, saves, "more like this") become a few **interest
vectors**: the seeds, weighted by recency (zotero-arxiv-daily's 1 / (1 + log10(rank + 1)),
newest first) and by kind, are clustered by a small spherical k-means (one cluster per
``seeds_per_interest`` seeds, at most ``max_interests``) so that a reader of two topics is
not served the papers halfway between them. A candidate's **vector score** is its best
cosine to an interest vector plus ``mixture_weight`` times the cluster-weighted mean cosine.
The **term score** is BM25 of the library's term profile (its most telling words and word
pairs) against the candidate's term bag, divided by the best candidate's so that it is in
[0, 1]. The two are summed (``term_weight``), the **nearest-seed side** is added (each term
seed's own tf-idf closeness to the candidates, ``_seed_side.py``, ``seed_weight``), papers
close to a "not interested" paper lose ``negative_weight`` times their cosine to it, and
the final list is picked by MMR (``mmr_lambda``; 1.0 is plain score order) so that one
topic does not fill the page.

Every array here is float32; vectors are unit-length rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse  # type: ignore[import-untyped]

# Re-exported: the term side and the settings are part of the ranking's interface.
from ._seed_side import add_seed_side, nearest, seed_scores, seed_units
from ._term_index import HashSet as HashSet
from ._term_index import TermIndex as TermIndex
from ._term_index import bm25
from ._term_index import term_index as term_index
from .settings import RankSettings as RankSettings
from .term_frequencies import TermFrequencies

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
Bag = tuple[U32, npt.NDArray[np.uint8]]  # sorted term hashes, their counts (search's bags)


def recency_weights(count: int, power: float = 1.0) -> F32:
    """zotero-arxiv-daily's weights for ``count`` papers sorted newest first, 1 / (1 +
    log10(rank + 1)), raised to ``power`` (0: all alike; ``RankSettings.recency_power``),
    summing to 1."""
    if count <= 0:
        return np.zeros(0, dtype=np.float32)
    raw = (1.0 / (1.0 + np.log10(np.arange(count, dtype=np.float64) + 1.0))) ** power
    out: F32 = (raw / raw.sum()).astype(np.float32)
    return out


def _unit(matrix: F32) -> F32:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    out: F32 = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


@dataclass(frozen=True, slots=True)
class Interests:
    """Readers' interest vectors, padded to the same count: ``centres`` (readers, k, d),
    ``weights`` (readers, k), zero for a padding slot (and for a reader without seeds)."""

    centres: F32
    weights: F32


def interests(seeds: Sequence[F32], weights: Sequence[F32], settings: RankSettings) -> Interests:
    """Interest vectors of many readers at once: ``seeds[r]`` is reader r's (n_r, d) seed
    vectors, ``weights[r]`` their (n_r,) weights (recency times kind). Readers are padded to
    the largest library (at most ``max_cluster_seeds`` seeds, the heaviest, are clustered)
    and clustered together with batched matrix products."""
    readers = len(seeds)
    dim = next((s.shape[1] for s in seeds if s.ndim == 2 and s.shape[1]), 1)
    cap = settings.max_cluster_seeds
    width = max([min(len(s), cap) for s in seeds] + [1])
    x = np.zeros((readers, width, dim), dtype=np.float32)
    w = np.zeros((readers, width), dtype=np.float32)
    k_of = np.zeros(readers, dtype=np.int64)
    for r, (vectors, weight) in enumerate(zip(seeds, weights, strict=True)):
        n = len(vectors)
        if n == 0:
            continue
        keep = np.argsort(-weight, kind="stable")[:cap] if n > cap else np.arange(n)
        x[r, : len(keep)] = vectors[keep]
        w[r, : len(keep)] = weight[keep]
        k_of[r] = min(settings.max_interests, max(1, math.ceil(n / settings.seeds_per_interest)))
    k = int(max(int(k_of.max(initial=0)), 1))
    valid = np.arange(k)[None, :] < k_of[:, None]  # (readers, k)
    # Farthest-point start: the heaviest seed, then each time the seed least like the chosen.
    rows = np.arange(readers)
    choice = np.zeros((readers, k), dtype=np.int64)
    choice[:, 0] = np.argmax(w, axis=1)
    best = np.matmul(x, x[rows, choice[:, 0], :, None])[..., 0]
    for c in range(1, k):
        far = np.where(w > 0, best, np.inf)
        choice[:, c] = np.argmin(far, axis=1)
        best = np.maximum(best, np.matmul(x, x[rows, choice[:, c], :, None])[..., 0])
    centres = x[rows[:, None], choice]  # (readers, k, d)
    # Contiguous operands throughout: numpy's stacked matmul uses BLAS only for those.
    invalid = np.ascontiguousarray(np.broadcast_to(~valid[:, None, :], (readers, width, k)))
    slots = np.arange(k, dtype=np.int64)[None, :, None]
    for _ in range(settings.kmeans_rounds):
        sims = np.matmul(x, np.ascontiguousarray(centres.transpose(0, 2, 1)))  # (r, width, k)
        sims[invalid] = -np.inf
        owner = np.argmax(sims, axis=2)
        member = (owner[:, None, :] == slots) * w[:, None, :]  # (readers, k, width)
        summed = np.matmul(member, x)  # (readers, k, d)
        empty = member.sum(axis=2) <= 0
        summed[empty] = centres[empty]
        centres = _unit(summed)
    sims = np.matmul(x, np.ascontiguousarray(centres.transpose(0, 2, 1)))
    sims[invalid] = -np.inf
    owner = np.argmax(sims, axis=2)
    mass = ((owner[:, None, :] == slots) * w[:, None, :]).sum(axis=2)
    mass = np.where(valid, mass, 0.0)
    total = mass.sum(axis=1, keepdims=True)
    mass = np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)
    return Interests(centres.astype(np.float32), mass.astype(np.float32))


def vector_scores(interest: Interests, candidates: F32, settings: RankSettings) -> F32:
    """(readers, m) vector scores of m candidate vectors: the best interest's cosine plus
    ``mixture_weight`` times the interest-weighted mean cosine."""
    readers, k, dim = interest.centres.shape
    sims = interest.centres.reshape(readers * k, dim) @ candidates.T
    sims = sims.reshape(readers, k, -1)
    mixture = np.matmul(interest.weights[:, None, :], sims)[:, 0, :]
    sims[interest.weights <= 0] = -1.0
    best = sims.max(axis=1)
    best[interest.weights.sum(axis=1) <= 0] = 0.0
    out: F32 = (best + settings.mixture_weight * mixture).astype(np.float32)
    return out


def negative_penalty(negatives: F32, candidates: F32, settings: RankSettings) -> F32:
    """How much each candidate loses for being close to a "not interested" paper."""
    if not len(negatives) or not len(candidates):
        return np.zeros(len(candidates), dtype=np.float32)
    closest = (negatives @ candidates.T).max(axis=0)
    out: F32 = (settings.negative_weight * np.maximum(closest, 0.0)).astype(np.float32)
    return out


def mmr(scores: F32, vectors: F32, limit: int, settings: RankSettings) -> I64:
    """Positions of the ``limit`` picks, by maximal marginal relevance over the best
    ``3 * limit`` by score: each pick maximises lambda * score - (1 - lambda) * its cosine to
    the closest pick so far."""
    order = np.argsort(-scores, kind="stable")
    if settings.mmr_lambda >= 1.0 or limit <= 1:
        return order[:limit].astype(np.int64)
    pool = order[: max(3 * limit, limit)]
    lam = settings.mmr_lambda
    relevance = scores[pool].astype(np.float32)
    sims = vectors[pool] @ vectors[pool].T
    closest = np.full(len(pool), -np.inf, dtype=np.float32)
    taken = np.zeros(len(pool), dtype=bool)
    picked: list[int] = []
    for _ in range(min(limit, len(pool))):
        value = lam * relevance - (1 - lam) * np.where(np.isfinite(closest), closest, 0.0)
        value[taken] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        taken[best] = True
        closest = np.maximum(closest, sims[best])
    return pool[np.array(picked, dtype=np.int64)].astype(np.int64)


@dataclass(frozen=True, slots=True)
class ReaderSeeds:
    """One reader as ``reader_models`` and ``score_readers`` take them: seed vectors (n, d)
    and their weights (n,) (recency times kind, see ``recency_weights``), the seeds' keys
    (same order: the ids their term bags are found by in ``seed_bags``; empty for no term
    side), "not interested" vectors (j, d), candidate positions never to pick (``banned``)
    and a per-candidate bonus (followed authors and categories), or None."""

    vectors: F32
    weights: F32
    keys: Sequence[int] = ()
    negatives: F32 | None = None
    banned: I64 | None = None
    bonus: F32 | None = None


def top_k(scores: F32, k: int) -> tuple[I64, F32]:
    """Each row's ``k`` best positions, sorted best first, ties by position (the first of
    equal scores win a place too), and their scores."""
    k = min(k, scores.shape[1])
    if k <= 0:
        empty = np.zeros((scores.shape[0], 0))
        return empty.astype(np.int64), empty.astype(np.float32)
    kth = np.take_along_axis(scores, np.argpartition(-scores, k - 1, axis=1)[:, k - 1 : k], 1)
    above = scores > kth
    tied = scores == kth
    wanted = k - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= wanted))
    part = np.nonzero(chosen)[1].reshape(len(scores), k)
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    best = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return best, np.take_along_axis(scores, best, axis=1).astype(np.float32)


@dataclass(frozen=True, slots=True)
class ReaderModel:
    """What the ranker keeps of a reader between days: it depends on their seeds only, so
    it is built once (``reader_models``) and reused until their signals change. Interest
    vectors (k, d) and their weights (k,), the keys of their ``term_seeds`` heaviest seeds
    (sorted) and those seeds' weights (the term profile is summed from their bags on the
    day, ``SeedTerms``), their "not interested" vectors (j, d) and how many seeds they
    have."""

    centres: F32
    weights: F32
    term_keys: I64
    term_weights: F32
    negatives: F32
    seeds: int

    @property
    def nbytes(self) -> int:
        parts = (self.centres, self.weights, self.term_keys, self.term_weights, self.negatives)
        return sum(a.nbytes for a in parts)


def reader_models(
    readers: Sequence[ReaderSeeds],
    settings: RankSettings,
    *,
    block: int = 512,
    sizes: Sequence[int] | None = None,
) -> list[ReaderModel]:
    """Each reader's model: interest vectors clustered in blocks of ``block`` readers of
    similar library size (``sizes``, the seed counts, when known without reading
    ``readers``)."""
    count = len(readers)
    if sizes is None:
        sizes = [len(r.vectors) for r in readers]
    order = np.argsort(np.minimum(np.asarray(sizes), settings.max_cluster_seeds), kind="stable")
    out: list[ReaderModel | None] = [None] * count
    for start in range(0, count, block):
        which = order[start : start + block].tolist()
        chunk = [readers[n] for n in which]
        chosen = interests([r.vectors for r in chunk], [r.weights for r in chunk], settings)
        dim = chosen.centres.shape[2]
        for j, (n, reader) in enumerate(zip(which, chunk, strict=True)):
            keep = chosen.weights[j] > 0
            keys = np.asarray(reader.keys, dtype=np.int64)
            weights = reader.weights[: len(keys)]
            if len(keys) > settings.term_seeds:
                heaviest = np.argsort(-weights, kind="stable")[: settings.term_seeds]
                keys, weights = keys[heaviest], weights[heaviest]
            by_key = np.argsort(keys, kind="stable")
            negatives = reader.negatives
            if negatives is None or not len(reader.vectors):
                negatives = np.zeros((0, dim), dtype=np.float32)
            out[n] = ReaderModel(
                np.ascontiguousarray(chosen.centres[j, keep]),
                chosen.weights[j, keep].copy(),
                keys[by_key],
                weights[by_key].astype(np.float32),
                np.ascontiguousarray(negatives, dtype=np.float32),
                len(reader.vectors),
            )
    return [m for m in out if m is not None]


@dataclass(frozen=True, slots=True)
class SeedTerms:
    """The candidate terms each seed paper holds, for one day's candidates: ``keys``
    (sorted) and a sparse (seeds, terms) matrix of ones, ``known``; and, for the
    nearest-seed side (``_seed_side.py``), each seed's closeness to its nearest candidates,
    a sparse (seeds, candidates) matrix ``near`` (None when that side is off)."""

    keys: I64
    known: Any
    near: Any = None

    def masses(self, models: Sequence[ReaderModel]) -> Any:
        """A sparse (readers, terms) matrix: each term's summed weight over the reader's
        term seeds holding it (a seed without a bag adds nothing)."""
        keys = np.concatenate([m.term_keys for m in models] + [np.zeros(0, np.int64)])
        weights = np.concatenate([m.term_weights for m in models] + [np.zeros(0, np.float32)])
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = self.keys[at] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        owner = np.repeat(np.arange(len(models)), [len(m.term_keys) for m in models])
        chosen = sparse.csr_matrix(
            (weights[found], (owner[found], at[found])), shape=(len(models), len(self.keys))
        )
        return chosen @ self.known


def seed_terms(
    models: Sequence[ReaderModel],
    seed_bags: Mapping[int, Bag],
    index: TermIndex,
    settings: RankSettings | None = None,
    workers: int = 1,
) -> SeedTerms:
    """``SeedTerms`` of every term seed of ``models`` that ``seed_bags`` holds; with
    ``settings`` whose ``seed_weight`` is above 0, each seed's nearest candidates too
    (``workers`` threads)."""
    keys = np.unique(np.concatenate([m.term_keys for m in models] + [np.zeros(0, np.int64)]))
    keys = keys[[int(k) in seed_bags for k in keys.tolist()]]
    pieces = [sparse.csr_matrix((0, len(index.terms)), dtype=np.float32)]
    for start in range(0, len(keys), 10_000):
        bags = [seed_bags[k] for k in keys[start : start + 10_000].tolist()]
        hashes = np.concatenate([b[0] for b in bags] + [np.zeros(0, np.uint32)])
        owner = np.repeat(np.arange(len(bags)), [len(b[0]) for b in bags])
        hit, at = index.lookup(hashes)
        pieces.append(
            sparse.csr_matrix(
                (np.ones(int(hit.sum()), np.float32), (owner[hit], at[hit])),
                shape=(len(bags), len(index.terms)),
            )
        )
    near = None
    if settings is not None and settings.seed_weight > 0:
        near = nearest(seed_units(keys.tolist(), seed_bags, index), index, settings, workers)
    return SeedTerms(keys, sparse.vstack(pieces, format="csr"), near)


def _keep_best(value: F32, col: I64, bounds: I64, count: int) -> npt.NDArray[np.bool_]:
    """Which entries to keep: in each reader's run ``bounds[r]:bounds[r + 1]``, the
    ``count`` largest positive values, ties going to the lower column."""
    keep = value > 0
    sizes = np.diff(bounds)
    for r in np.flatnonzero(sizes > count).tolist():
        lo, hi = int(bounds[r]), int(bounds[r + 1])
        row = value[lo:hi]
        kth = np.partition(row, len(row) - count)[len(row) - count]
        chosen = row > kth
        ties = np.flatnonzero(row == kth)
        ties = ties[np.argsort(col[lo:hi][ties], kind="stable")][: count - int(chosen.sum())]
        chosen[ties] = True
        keep[lo:hi] &= chosen
    return keep


def model_term_scores(
    models: Sequence[ReaderModel], seeds: SeedTerms, index: TermIndex, settings: RankSettings
) -> F32:
    """(readers, candidates) BM25 of each model's term profile, each row divided by its
    best. The profile: the terms its term seeds hold (each seed counts a term once, with
    its weight; terms no candidate holds dropped), the ``query_terms`` best by mass times
    idf over the candidates kept, each weighted by mass times idf^``query_idf`` (idf on the
    query side too, as a tf-idf cosine weighs a term by idf twice: the rare terms a library
    shares count for more than common ones)."""
    readers = len(models)
    if not len(index.terms) or not len(seeds.keys):
        return np.zeros((readers, index.count), dtype=np.float32)
    mass = seeds.masses(models)
    col = mass.indices.astype(np.int64)
    bounds = mass.indptr.astype(np.int64)
    keep = _keep_best(mass.data * index.idf[col], col, bounds, settings.query_terms)
    owner = np.repeat(np.arange(readers, dtype=np.int64), np.diff(bounds))[keep]
    col = col[keep]
    return bm25(owner, col, mass.data[keep] * index.query_idf[col], readers, index)


def score_models(
    models: Sequence[ReaderModel],
    candidates: F32,
    terms: TermIndex | None,
    settings: RankSettings,
    *,
    seeds: SeedTerms | None = None,
    banned: Sequence[I64 | None] | None = None,
    bonus: Sequence[F32 | None] | None = None,
) -> F32:
    """(readers, m) final scores of m candidates (before MMR): vector score + term_weight
    times the term score (when ``terms`` and ``seeds`` are given) - the negative penalty +
    the bonus; banned candidates -inf."""
    readers, dim = len(models), candidates.shape[1]
    k = max([len(m.weights) for m in models] + [1])
    centres = np.zeros((readers, k, dim), dtype=np.float32)
    weights = np.zeros((readers, k), dtype=np.float32)
    for n, model in enumerate(models):
        centres[n, : len(model.weights)] = model.centres
        weights[n, : len(model.weights)] = model.weights
    score = vector_scores(Interests(centres, weights), candidates, settings)
    has_vector = (np.abs(candidates).sum(axis=1) > 0).astype(np.float32)
    score *= has_vector[None, :]
    if terms is not None and seeds is not None:
        score += settings.term_weight * model_term_scores(models, seeds, terms, settings)
        if seeds.near is not None:
            add_seed_side(score, seed_scores(models, seeds.keys, seeds.near), settings)
    for n, model in enumerate(models):
        if not model.seeds:
            score[n] = 0.0
        elif len(model.negatives):
            score[n] -= negative_penalty(model.negatives, candidates, settings)
        extra = bonus[n] if bonus is not None else None
        if extra is not None:
            score[n] += extra
        never = banned[n] if banned is not None else None
        if never is not None and len(never):
            score[n, never] = -np.inf
    return score


def score_readers(
    readers: Sequence[ReaderSeeds],
    candidates: F32,
    terms: TermIndex | None,
    settings: RankSettings,
    seed_bags: Mapping[int, Bag] | None = None,
) -> F32:
    """``score_models`` of the readers' models (built here); the term side when ``terms``
    and the seeds' bags (``seed_bags``, by key) are given."""
    models = reader_models(readers, settings)
    seeds = (
        seed_terms(models, seed_bags, terms, settings) if terms and seed_bags is not None else None
    )
    return score_models(
        models,
        candidates,
        terms,
        settings,
        seeds=seeds,
        banned=[r.banned for r in readers],
        bonus=[r.bonus for r in readers],
    )


def rank_many(
    models: Sequence[ReaderModel],
    candidates: F32,
    k: int,
    settings: RankSettings,
    *,
    candidate_bags: Sequence[Bag] | None = None,
    seed_bags: Mapping[int, Bag] | None = None,
    frequencies: TermFrequencies | None = None,
    banned: Sequence[I64 | None] | None = None,
    bonus: Sequence[F32 | None] | None = None,
    block: int = 512,
    workers: int = 1,
) -> tuple[I64, F32]:
    """Every reader's ``k`` best candidates at once (a day's papers for the digests), from
    their models (``reader_models``, built once and kept while their signals do not
    change) and their term seeds' bags (``seed_bags``, by key; none: no term side), the
    term side's idf from ``frequencies`` (the store's counts) when given. Each
    seed's candidate terms are looked up once (``seed_terms``); readers go in blocks of
    ``block``, each block one matrix product of its interest vectors against the
    candidates, one sparse product summing its readers' term masses, the BM25 as one dense
    product for common terms and one sparse product for the rest, then one argpartition.
    Returns (readers, k) positions into ``candidates``, best first, and their scores; a
    banned position scores -inf (only picked when fewer than ``k`` remain). The same scores
    as ranking each reader alone over the same candidates (without MMR). ``workers``
    threads score blocks side by side (numpy and scipy release the GIL in their loops; give
    each one BLAS thread)."""
    candidates = np.ascontiguousarray(candidates, dtype=np.float32)
    terms = (
        term_index(candidate_bags, settings, frequencies=frequencies)
        if candidate_bags is not None
        else None
    )
    seeds = (
        seed_terms(models, seed_bags, terms, settings, workers)
        if terms and seed_bags is not None
        else None
    )
    count = len(models)
    width = min(k, len(candidates))
    positions = np.zeros((count, width), dtype=np.int64)
    scores = np.zeros((count, width), dtype=np.float32)

    def rank_block(start: int) -> None:
        stop = min(start + block, count)
        best, values = top_k(
            score_models(
                models[start:stop],
                candidates,
                terms,
                settings,
                seeds=seeds,
                banned=banned[start:stop] if banned is not None else None,
                bonus=bonus[start:stop] if bonus is not None else None,
            ),
            width,
        )
        positions[start:stop] = best
        scores[start:stop] = values

    starts = range(0, count, block)
    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(rank_block, starts))
    else:
        for start in starts:
            rank_block(start)
    return positions, scores
