"""The HNSW graph of the vector index (faiss ``IndexHNSWSQ`` over 8-bit codes, ids mapped by
``IndexIDMap2``): made, sized up front, trained on the first vectors, filled chunk by chunk,
and its codes read back as a numpy view.

Two uses (search/_index.py): beyond ``exact_max`` it is the index itself (its codes the only
copy of the vectors); from ``graph_min`` up to ``exact_max`` it sits beside the exact float16
index as the *shortlist* of similar papers' vector neighbours, rescored exactly from the
float16 vectors (the flat scan of every vector was half of a similar-papers call's CPU).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F16 = npt.NDArray[np.float16]
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256  # recall@10 on the 1M bench vectors: 0.65 at 128, 0.72 at 256
CHUNK = 50_000  # vectors converted to float32 at a time when adding to the graph
# The graph's 8-bit codes: each dimension's range is its minimum to maximum over the first
# TRAIN vectors, widened by RANGE_MARGIN of it on each side for later vectors.
TRAIN = 50_000
RANGE_MARGIN = 0.02


def new_graph(dimension: int, ef_search: int = HNSW_EF_SEARCH) -> Any:
    """An empty, untrained graph (inner product)."""
    bits: Any = faiss.ScalarQuantizer.QT_8bit  # typed as a class in faiss's stubs
    graph = faiss.IndexHNSWSQ(dimension, bits, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    storage: Any = faiss.downcast_index(graph.storage)
    storage.sq.rangestat_arg = RANGE_MARGIN
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.hnsw.efSearch = ef_search
    return faiss.IndexIDMap2(graph)


def set_ef_search(index: Any, ef_search: int) -> None:
    graph: Any = faiss.downcast_index(index.index)
    graph.hnsw.efSearch = ef_search


def add_chunked(index: Any, ids: I64, vectors: F16) -> None:
    """Add (float32 copies of a chunk at a time)."""
    for start in range(0, len(ids), CHUNK):
        part = vectors[start : start + CHUNK].astype(np.float32)
        index.add_with_ids(part, ids[start : start + CHUNK])


def fill_graph(index: Any, chunks: Iterable[tuple[I64, F16]], count: int) -> I64:
    """Fill the empty graph ``index`` with these (ids, vectors) chunks, ``count`` vectors
    expected (its arrays sized for them first; its quantiser trained on the first TRAIN);
    returns the ids in the order added."""
    reserve(index, count)
    parts = [np.zeros(0, dtype=np.int64)]
    for chunk_ids, chunk_vectors in trained_first(index, chunks):
        add_chunked(index, chunk_ids, chunk_vectors)
        parts.append(chunk_ids)
    return np.concatenate(parts)


def graph_ids(index: Any) -> I64:
    """The ids of the graph's vectors, in order."""
    return np.asarray(faiss.vector_to_array(index.id_map), dtype=np.int64)


def reserve(index: Any, count: int) -> None:
    """Give an empty graph's arrays room for ``count`` vectors (resize, then back to 0: the
    capacity stays). Without it each add's growth copies the arrays, and the old and the new
    copy together peak near twice the final size (2.2 GB instead of 1.4 at 1M papers)."""
    graph: Any = faiss.downcast_index(index.index)
    storage: Any = faiss.downcast_index(graph.storage)
    # Level 0 holds 2 M neighbours a vector, the levels above M / (M - 1) on average.
    for array, size in (
        (storage.codes, count * storage.code_size),
        (graph.hnsw.neighbors, count * (2 * HNSW_M + 2)),
    ):
        array.resize(size)
        array.resize(0)


@dataclass(frozen=True, slots=True)
class Codes:
    """The graph's 8-bit codes (a view of faiss's storage: valid until the next add, the
    index must outlive it) and their decoding: ``low + (code + 0.5) * step`` per dimension,
    as faiss's QT_8bit reconstructs them."""

    codes: U8
    low: F32
    step: F32

    @staticmethod
    def empty(dimension: int) -> Codes:
        nothing = np.zeros(dimension, dtype=np.float32)
        return Codes(np.zeros((0, dimension), dtype=np.uint8), nothing, nothing)

    def rows(self, positions: I64) -> F32:
        decoded = (self.codes[positions].astype(np.float32) + np.float32(0.5)) * self.step
        return np.asarray(decoded + self.low, dtype=np.float32)

    def scores(self, positions: I64, query: F32) -> F32:
        """Inner products of ``query`` with the decoded rows, without decoding them."""
        scaled = query * self.step
        offset = float(query @ self.low + 0.5 * scaled.sum())
        found = self.codes[positions].astype(np.float32) @ scaled + np.float32(offset)
        return np.asarray(found, dtype=np.float32)


def trained_first(index: Any, chunks: Iterable[tuple[I64, F16]]) -> Iterable[tuple[I64, F16]]:
    """The chunks, once the 8-bit quantiser of the empty graph ``index`` is trained on the
    first TRAIN vectors among them (held back until then)."""
    held: list[tuple[I64, F16]] = []
    count = 0
    iterator = iter(chunks)
    for chunk in iterator:
        held.append(chunk)
        count += len(chunk[0])
        if count >= TRAIN:
            break
    if count:
        sample = np.concatenate([vectors for _, vectors in held])[:TRAIN]
        index.train(sample.astype(np.float32))
    yield from held
    yield from iterator


def graph_codes(index: Any, dimension: int) -> Codes:
    """The 8-bit codes stored in an ``IndexIDMap2`` over an ``IndexHNSWSQ`` (QT_8bit); raises
    ValueError when ``index`` is not such a graph of this dimension."""
    if not isinstance(index, faiss.IndexIDMap2):
        raise ValueError("the saved graph is not an id-mapped index")
    graph: Any = faiss.downcast_index(index.index)
    storage: Any = faiss.downcast_index(graph.storage) if hasattr(graph, "storage") else None
    if (
        not isinstance(graph, faiss.IndexHNSWSQ)
        or not isinstance(storage, faiss.IndexScalarQuantizer)
        or storage.sq.qtype != faiss.ScalarQuantizer.QT_8bit
        or storage.d != dimension
        or storage.code_size != dimension
    ):
        raise ValueError("the saved graph is not an 8-bit HNSW index of this dimension")
    trained = faiss.vector_to_array(storage.sq.trained).astype(np.float32)
    if storage.is_trained and trained.shape != (2 * dimension,):
        raise ValueError("the saved graph's quantiser is not trained for this dimension")
    codes = storage.codes
    if codes.size() == 0:
        return Codes.empty(dimension)
    raw = faiss.rev_swig_ptr(codes.data(), codes.size())
    matrix: U8 = np.asarray(raw).view(np.uint8).reshape(-1, dimension)
    return Codes(matrix, trained[:dimension], trained[dimension:] / 255.0)
