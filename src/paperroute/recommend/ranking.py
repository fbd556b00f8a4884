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
[0, 1]. The two are summed (``term_weight``), papers close to a "not interested" paper lose
``negative_weight`` times their cosine to it, and the final list is picked by MMR
(``mmr_lambda``; 1.0 is plain score order) so that one topic does not fill the page.

Every array here is float32; vectors are unit-length rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
Bag = tuple[U32, npt.NDArray[np.uint8]]  # sorted term hashes, their counts (search's bags)
TermQuery = tuple[U32, F32]  # term hashes, their weights


@dataclass(frozen=True, slots=True)
class RankSettings:
    """The ranker's knobs; the defaults were chosen on the tuning half of
    ``benchmarks/recommend_quality.py`` (see docs/recommend.md)."""

    max_interests: int = 6
    seeds_per_interest: int = 5
    kmeans_rounds: int = 4
    max_cluster_seeds: int = 32
    mixture_weight: float = 0.5
    term_weight: float = 1.5
    query_terms: int = 1200
    term_seeds: int = 64
    query_idf: float = 4.0
    bm25_k1: float = 1.2
    bm25_b: float = 0.9
    negative_weight: float = 0.5
    follow_bonus: float = 0.1
    mmr_lambda: float = 1.0


def recency_weights(count: int) -> F32:
    """zotero-arxiv-daily's weights for ``count`` papers sorted newest first, summing to 1."""
    if count <= 0:
        return np.zeros(0, dtype=np.float32)
    raw = 1.0 / (1.0 + np.log10(np.arange(count, dtype=np.float64) + 1.0))
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


@dataclass(frozen=True, slots=True)
class TermIndex:
    """The candidates' term bags as columns for BM25: for each distinct term hash
    (``terms``, sorted) the candidates holding it (``starts`` into ``docs``) and each one's
    BM25 term weight (``values``, tf saturation and length norm, idf not applied) and the
    term's ``idf`` over the candidates."""

    terms: U32
    starts: I64
    docs: I64
    values: F32
    idf: F32
    count: int


def term_index(bags: Sequence[Bag], settings: RankSettings) -> TermIndex:
    lengths = np.array([int(b[1].astype(np.int64).sum()) for b in bags], dtype=np.float32)
    count = len(bags)
    if count == 0 or not any(len(b[0]) for b in bags):
        empty = np.zeros(0, dtype=np.uint32)
        zeros = np.zeros(1, dtype=np.int64)
        return TermIndex(
            empty, zeros, zeros[:0], np.zeros(0, np.float32), np.zeros(0, np.float32), count
        )
    ids = np.concatenate([b[0] for b in bags])
    tf = np.concatenate([b[1] for b in bags]).astype(np.float32)
    doc = np.repeat(np.arange(count, dtype=np.int64), [len(b[0]) for b in bags])
    order = np.argsort(ids, kind="stable")
    ids, tf, doc = ids[order], tf[order], doc[order]
    terms, starts, df = np.unique(ids, return_index=True, return_counts=True)
    avg = float(lengths.mean()) or 1.0
    k1, b = settings.bm25_k1, settings.bm25_b
    norm = k1 * (1.0 - b + b * lengths[doc] / avg)
    values = (tf * (k1 + 1.0) / (tf + norm)).astype(np.float32)
    idf = np.log(1.0 + (count - df + 0.5) / (df + 0.5)).astype(np.float32)
    return TermIndex(
        terms.astype(np.uint32),
        np.append(starts, len(ids)).astype(np.int64),
        doc,
        values,
        idf,
        count,
    )


def known_columns(bag: Bag, index: TermIndex) -> I64:
    """Positions in ``index.terms`` of the bag's terms that some candidate holds (sorted)."""
    terms = bag[0]
    if not len(index.terms) or not len(terms):
        return np.zeros(0, dtype=np.int64)
    at = np.minimum(np.searchsorted(index.terms, terms), len(index.terms) - 1)
    out: I64 = at[index.terms[at] == terms].astype(np.int64)
    return out


def term_profile(
    bags: Sequence[Bag],
    weights: F32,
    index: TermIndex,
    settings: RankSettings,
    columns: Callable[[Bag], I64] | None = None,
) -> TermQuery:
    """A reader's query for BM25: the terms their seeds hold, weighted by the seeds' weights
    (each seed counts a term once; only the ``term_seeds`` heaviest seeds are read), the
    ``query_terms`` best by weight times idf kept; the weights are float32. Terms no
    candidate holds cannot score and are dropped first. ``columns`` (``known_columns``,
    perhaps memoised across readers who share seeds) maps a bag to its candidate terms."""
    if not bags or not len(index.terms):
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.float32)
    if len(bags) > settings.term_seeds:
        keep = np.sort(np.argsort(-weights, kind="stable")[: settings.term_seeds])
        bags = [bags[i] for i in keep.tolist()]
        weights = weights[keep]
    find = columns or (lambda bag: known_columns(bag, index))
    found = [find(bag) for bag in bags]
    cols = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    if not len(cols):
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.float32)
    w = np.repeat(weights.astype(np.float32), [len(c) for c in found])
    unique, inverse = np.unique(cols, return_inverse=True)
    mass = np.bincount(inverse, weights=w).astype(np.float32)
    value = mass * index.idf[unique]
    top = _best(value, settings.query_terms)
    if settings.query_idf:
        # idf on the query side too (as a tf-idf cosine weighs a term by idf twice): rare
        # terms the library shares count for more than common ones.
        boost = index.idf[unique[top]] ** settings.query_idf
        return index.terms[unique[top]], (mass[top] * boost).astype(np.float32)
    return index.terms[unique[top]], mass[top]


def _best(value: F32, count: int) -> I64:
    """Positions of the ``count`` largest positive values, largest first, ties in position
    order (what a stable argsort gives, without sorting everything)."""
    if len(value) > count > 0:
        kth = value[np.argpartition(-value, count - 1)[count - 1]]
        near = np.flatnonzero(value >= kth)
    else:
        near = np.arange(len(value))
    top = near[np.argsort(-value[near], kind="stable")][:count]
    out: I64 = top[value[top] > 0].astype(np.int64)
    return out


def term_scores(profiles: Sequence[TermQuery], index: TermIndex) -> F32:
    """(readers, candidates) BM25 of each profile, divided by each reader's best (so in
    [0, 1]; a reader without a matching term scores 0 everywhere)."""
    out = np.zeros((len(profiles), index.count), dtype=np.float32)
    if not len(index.terms):
        return out
    owners, cols, weights = [], [], []
    for r, (terms, mass) in enumerate(profiles):
        if not len(terms):
            continue
        at = np.searchsorted(index.terms, terms)
        at = np.minimum(at, len(index.terms) - 1)
        hit = index.terms[at] == terms
        owners.append(np.full(int(hit.sum()), r, dtype=np.int64))
        cols.append(at[hit])
        weights.append(mass.astype(np.float32)[hit] * index.idf[at[hit]])
    if not owners:
        return out
    owner, col, weight = np.concatenate(owners), np.concatenate(cols), np.concatenate(weights)
    lengths = index.starts[col + 1] - index.starts[col]
    total = int(lengths.sum())
    # Expand each (reader, term) to the candidates holding the term.
    offsets = np.repeat(index.starts[col] - np.cumsum(lengths) + lengths, lengths)
    positions = offsets + np.arange(total)
    flat_reader = np.repeat(owner, lengths)
    contributions = np.repeat(weight, lengths) * index.values[positions]
    flat = np.bincount(
        flat_reader * index.count + index.docs[positions],
        weights=contributions,
        minlength=len(profiles) * index.count,
    )
    out = flat.reshape(len(profiles), index.count).astype(np.float32)
    best = out.max(axis=1, keepdims=True)
    scaled: F32 = np.divide(out, best, out=np.zeros_like(out), where=best > 0)
    return scaled


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
    """One reader as ``rank_many`` takes them: seed vectors (n, d) and their weights (n,)
    (recency times kind, see ``recency_weights``), the seeds' term bags (same order; empty
    for no term side), "not interested" vectors (j, d), candidate positions never to pick
    (``banned``) and a per-candidate bonus (followed authors and categories), or None."""

    vectors: F32
    weights: F32
    bags: Sequence[Bag] = ()
    negatives: F32 | None = None
    banned: I64 | None = None
    bonus: F32 | None = None


def top_k(scores: F32, k: int) -> tuple[I64, F32]:
    """Each row's ``k`` best positions (argpartition, then sorted best first; ties by
    position) and their scores."""
    k = min(k, scores.shape[1])
    if k <= 0:
        empty = np.zeros((scores.shape[0], 0))
        return empty.astype(np.int64), empty.astype(np.float32)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    best = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return best, np.take_along_axis(scores, best, axis=1).astype(np.float32)


def score_readers(
    readers: Sequence[ReaderSeeds],
    candidates: F32,
    terms: TermIndex | None,
    settings: RankSettings,
    columns: Callable[[Bag], I64] | None = None,
) -> F32:
    """(readers, m) final scores of m candidates (before MMR): vector score + term_weight
    times the term score - the negative penalty + the bonus; banned candidates -inf."""
    chosen = interests([r.vectors for r in readers], [r.weights for r in readers], settings)
    score = vector_scores(chosen, candidates, settings)
    has_vector = (np.abs(candidates).sum(axis=1) > 0).astype(np.float32)
    score *= has_vector[None, :]
    no_seeds = np.array([len(r.vectors) == 0 for r in readers])
    if terms is not None and any(len(r.bags) for r in readers):
        queries = [
            term_profile(list(r.bags), r.weights, terms, settings, columns)
            if len(r.bags)
            else (np.zeros(0, np.uint32), np.zeros(0, np.float32))
            for r in readers
        ]
        score += settings.term_weight * term_scores(queries, terms)
    score[no_seeds] = 0.0
    for n, reader in enumerate(readers):
        if reader.negatives is not None and len(reader.negatives) and len(reader.vectors):
            score[n] -= negative_penalty(reader.negatives, candidates, settings)
        if reader.bonus is not None:
            score[n] += reader.bonus
        if reader.banned is not None and len(reader.banned):
            score[n, reader.banned] = -np.inf
    return score


def rank_many(
    readers: Sequence[ReaderSeeds],
    candidates: F32,
    k: int,
    settings: RankSettings,
    *,
    candidate_bags: Sequence[Bag] | None = None,
    block: int = 512,
    sizes: Sequence[int] | None = None,
) -> tuple[I64, F32]:
    """Every reader's ``k`` best candidates at once (a day's papers for the digests): readers
    go in blocks of ``block`` of similar library size (``sizes``, the readers' seed counts,
    when known without reading ``readers``), each block one matrix product against the
    candidates and one argpartition; a seed paper's candidate terms are looked up once for
    every reader who holds it. Returns (readers, k) positions into ``candidates``, best
    first, and their scores; a banned position scores -inf (only picked when fewer than
    ``k`` remain). The same scores as ranking each reader alone over the same candidates
    (without MMR)."""
    candidates = np.ascontiguousarray(candidates, dtype=np.float32)
    terms = term_index(candidate_bags, settings) if candidate_bags is not None else None
    memo: dict[int, tuple[Bag, I64]] = {}

    def columns(bag: Bag) -> I64:
        # Keyed by identity; the bag is kept in the value, so its id is not reused meanwhile.
        held = memo.get(id(bag))
        if held is None:
            held = memo[id(bag)] = (bag, known_columns(bag, terms))  # type: ignore[arg-type]
        return held[1]

    count = len(readers)
    if sizes is None:
        sizes = [len(r.vectors) for r in readers]
    order = np.argsort(np.minimum(np.asarray(sizes), settings.max_cluster_seeds), kind="stable")
    width = min(k, len(candidates))
    positions = np.zeros((count, width), dtype=np.int64)
    scores = np.zeros((count, width), dtype=np.float32)
    for start in range(0, count, block):
        which = order[start : start + block]
        chunk = [readers[int(n)] for n in which]
        best, values = top_k(score_readers(chunk, candidates, terms, settings, columns), width)
        positions[which] = best
        scores[which] = values
    return positions, scores
