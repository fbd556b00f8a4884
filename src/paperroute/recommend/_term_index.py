"""The term side's index: the candidates' term bags as BM25 columns (``TermIndex``) and the
sorted-hash lookup they are found by (``HashSet``); ``bm25`` scores many readers' term
profiles against it in two matrix products."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse  # type: ignore[import-untyped]

from .settings import RankSettings

if TYPE_CHECKING:
    from .term_frequencies import TermFrequencies

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
Bag = tuple[U32, npt.NDArray[np.uint8]]  # sorted term hashes, their counts (search's bags)

# Terms in at least this many candidates are scored by one dense matrix product (BLAS); the
# rarer rest by a sparse one. Common terms' postings are most of the work, and dense rows of
# them cost less than walking their postings reader by reader.
_DENSE_DF = 64
# The most top bits of a hash HashSet buckets by (a table of 4 MB).
_BUCKET_BITS = 20


@dataclass(frozen=True, slots=True)
class HashSet:
    """Sorted term hashes (``keys``) with a table of bucket starts by their top bits (about
    four buckets a key, at most 2^_BUCKET_BITS), so that finding a hash is two reads rather
    than a binary search."""

    keys: U32
    buckets: npt.NDArray[np.int32]

    @classmethod
    def of(cls, keys: U32) -> HashSet:
        """``keys`` must be sorted and distinct."""
        keys = np.asarray(keys, dtype=np.uint32)
        bits = min(_BUCKET_BITS, max(4, (4 * len(keys)).bit_length()))
        shifted = (keys >> np.uint32(32 - bits)).astype(np.int64)
        per_bucket = np.bincount(shifted, minlength=1 << bits)
        return cls(keys, np.concatenate([[0], np.cumsum(per_bucket)]).astype(np.int32))

    def find(self, hashes: U32) -> tuple[npt.NDArray[np.bool_], I64]:
        """Which of ``hashes`` are keys, and their positions in ``keys``."""
        keys = self.keys
        if not len(keys):
            return np.zeros(len(hashes), dtype=bool), np.zeros(len(hashes), dtype=np.int64)
        bits = int(self.buckets.shape[0] - 1).bit_length() - 1
        bucket = (hashes >> np.uint32(32 - bits)).astype(np.int64)
        at = self.buckets[bucket].astype(np.int64)
        size = self.buckets[bucket + 1] - at
        at = np.minimum(at, len(keys) - 1)
        hit = (size > 0) & (keys[at] == hashes)
        crowded = np.flatnonzero((size > 1) & ~hit)  # a bucket of several keys: search it
        if len(crowded):
            found = np.minimum(np.searchsorted(keys, hashes[crowded]), len(keys) - 1)
            at[crowded] = found
            hit[crowded] = keys[found] == hashes[crowded]
        return hit, at


@dataclass(frozen=True, slots=True)
class TermIndex:
    """The candidates' term bags as columns for BM25: for each distinct term hash
    (``terms``, sorted) the candidates holding it (``starts`` into ``docs``) and each one's
    BM25 term weight (``values``, tf saturation and length norm, idf not applied) and the
    term's ``idf`` (over the store or the candidates, see ``term_index``), and
    ``query_idf``, the idf^(``query_idf`` + 1) a reader's term mass is multiplied by. The
    same weights as matrices: ``dense`` rows for the terms held by at least ``_DENSE_DF``
    candidates (``dense_row[t]`` their row, -1 for a rare term) and ``rare``, a sparse
    (terms, candidates) matrix of the rest; ``lookup`` finds terms by hash."""

    terms: U32
    starts: I64
    docs: I64
    values: F32
    idf: F32
    count: int
    query_idf: F32
    dense_row: I64
    dense: F32
    rare: Any
    table: HashSet
    papers: int = 0
    frequencies: TermFrequencies | None = None

    @property
    def held_by(self) -> I64:
        """How many candidates hold each term."""
        out: I64 = np.diff(self.starts).astype(np.int64)
        return out

    def idf_of(self, hashes: U32) -> F32:
        """The idf of any term hashes, those no candidate holds included (from the store's
        counts when the index has them, else as in one paper)."""
        hit, at = self.lookup(hashes)
        out = np.zeros(len(hashes), dtype=np.float32)
        if len(self.terms):
            out[hit] = self.idf[at[hit]]
        miss = ~hit
        if miss.any():
            counts = np.ones(int(miss.sum()), dtype=np.int64)
            if self.frequencies is not None:
                counts = np.maximum(self.frequencies.of_terms(hashes[miss]), 1)
            out[miss] = idf(counts, max(self.papers, 1))
        return out

    def lookup(self, hashes: U32) -> tuple[npt.NDArray[np.bool_], I64]:
        """Which of ``hashes`` some candidate holds, and their positions in ``terms``."""
        return self.table.find(hashes)


def idf(document_counts: npt.NDArray[np.int64], papers: int) -> F32:
    """BM25's idf, log(1 + (N - df + 0.5) / (df + 0.5))."""
    df = document_counts.astype(np.float64)
    out: F32 = np.log(1.0 + (papers - df + 0.5) / (df + 0.5)).astype(np.float32)
    return out


def term_index(
    bags: Sequence[Bag],
    settings: RankSettings,
    vocabulary: U32 | None = None,
    frequencies: TermFrequencies | None = None,
) -> TermIndex:
    """The candidates' ``bags`` indexed; only the terms of ``vocabulary`` (sorted hashes)
    when given: enough for readers whose seeds hold no other term, and much less work.
    Idf from ``frequencies`` (the whole store's counts; a term counts as in at least as many
    papers as the candidates holding it) when given, else over the candidates."""
    count = len(bags)
    ids = np.concatenate([b[0] for b in bags] + [np.zeros(0, np.uint32)])
    tf = np.concatenate([b[1] for b in bags] + [np.zeros(0, np.uint8)]).astype(np.float32)
    sizes = np.fromiter((len(b[0]) for b in bags), np.int64, count)
    doc = np.repeat(np.arange(count, dtype=np.int64), sizes)
    lengths = np.bincount(doc, weights=tf, minlength=count).astype(np.float32)
    if vocabulary is not None and len(ids):
        held, _ = HashSet.of(vocabulary).find(ids)
        ids, tf, doc = ids[held], tf[held], doc[held]
    if not len(ids):
        empty = np.zeros(0, dtype=np.uint32)
        zeros = np.zeros(1, dtype=np.int64)
        return TermIndex(
            empty,
            zeros,
            zeros[:0],
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
            count,
            np.zeros(0, np.float32),
            zeros[:0],
            np.zeros((0, count), np.float32),
            sparse.csr_matrix((0, count), dtype=np.float32),
            HashSet.of(empty),
            max(frequencies.papers if frequencies is not None else 0, count),
            frequencies,
        )
    order = np.argsort(ids, kind="stable")
    ids, tf, doc = ids[order], tf[order], doc[order]
    terms, starts, df = np.unique(ids, return_index=True, return_counts=True)
    avg = float(lengths.mean()) or 1.0
    k1, b = settings.bm25_k1, settings.bm25_b
    norm = k1 * (1.0 - b + b * lengths[doc] / avg)
    values = (tf * (k1 + 1.0) / (tf + norm)).astype(np.float32)
    if frequencies is None:
        weight = idf(df, count)
    else:
        stored: I64 = np.maximum(frequencies.of_terms(terms), df.astype(np.int64))
        weight = idf(stored, max(frequencies.papers, count))
    bounds = np.append(starts, len(ids)).astype(np.int64)
    common = np.flatnonzero(df >= _DENSE_DF)
    dense_row = np.full(len(terms), -1, dtype=np.int64)
    dense_row[common] = np.arange(len(common))
    dense = np.zeros((len(common), count), dtype=np.float32)
    posting_term = np.repeat(np.arange(len(terms)), df)
    in_dense = dense_row[posting_term] >= 0
    dense[dense_row[posting_term[in_dense]], doc[in_dense]] = values[in_dense]
    rare_values = np.where(in_dense, np.float32(0), values)
    rare = sparse.csr_matrix((rare_values, doc, bounds), shape=(len(terms), count))
    rare.eliminate_zeros()
    terms = terms.astype(np.uint32)
    return TermIndex(
        terms,
        bounds,
        doc,
        values,
        weight,
        count,
        (weight ** (settings.query_idf + 1.0)).astype(np.float32),
        dense_row,
        dense,
        rare,
        HashSet.of(terms),
        max(frequencies.papers, count) if frequencies is not None else count,
        frequencies,
    )


def bm25(owner: I64, col: I64, weight: F32, readers: int, index: TermIndex) -> F32:
    """(readers, candidates) sum over each reader's (term column, query weight) pairs of the
    weight times the candidate's BM25 term weight, each row divided by its best."""
    out = np.zeros((readers, index.count), dtype=np.float32)
    row = index.dense_row[col]
    common = row >= 0
    if common.any():
        query = np.zeros((readers, len(index.dense)), dtype=np.float32)
        query[owner[common], row[common]] = weight[common]  # a reader holds a term once
        out += query @ index.dense
    rare = ~common
    if rare.any():
        query = sparse.csr_matrix(
            (weight[rare], (owner[rare], col[rare])), shape=(readers, len(index.terms))
        )
        out += (query @ index.rare).toarray()
    best = out.max(axis=1, keepdims=True)
    scaled: F32 = np.divide(out, best, out=np.zeros_like(out), where=best > 0)
    return scaled
