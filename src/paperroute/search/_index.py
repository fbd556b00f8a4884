"""The vector index: the stored embeddings of one model, searchable by inner product (faiss).

Up to ``exact_max`` vectors the search is exact: float16 scalar-quantised flat indexes (the
stored vectors are float16, so nothing is lost), split in two shards searched on two threads.
Beyond, an HNSW graph (approximate) over 8-bit scalar-quantised vectors (``IndexHNSWSQ``,
QT_8bit: one byte a dimension, each dimension's range trained on the first vectors): its
storage holds the vectors once, and filtered and per-paper lookups decode rows of that
storage (a view of it, not a second copy). At 1M papers: 0.38 GB of codes plus 0.26 GB of
graph, against 0.77 GB of float16 vectors plus the graph before, and 2.6 GB for a float32
``IndexHNSWFlat`` beside a float16 copy. Built chunk by chunk from the database, so the
vectors are never in memory twice. The index is kept in step
with the database by :meth:`VectorIndex.refresh`: new vectors are added; when vectors were
deleted or replaced it is rebuilt. It is persisted (ids, vectors, the HNSW graph) in a folder
so a server starts fast. Thread-safe: one lock around every read and change.

From ``graph_min`` vectors up to ``exact_max``, an 8-bit HNSW graph also sits beside the exact
index: the *shortlist* of similar papers' vector neighbours (:meth:`VectorIndex.neighbours`),
whose candidates are rescored exactly from the float16 vectors, so only which candidates come
in is approximate. The flat scan of every vector was half of a similar-papers call's CPU at
200k papers. Query-text search keeps the exact scan. The shortlist is built off the lock
(its build takes tens of seconds at 200k), new vectors go into both, and it is saved beside
the other files (``.shortlist.hnsw``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine

from ..soon import RunSoon
from ._graph import (
    CHUNK,
    HNSW_EF_SEARCH,
    Codes,
    add_chunked,
    fill_graph,
    graph_codes,
    graph_ids,
    new_graph,
    set_ef_search,
)
from ._vectors import count_vectors, iter_vectors, model_info, newest_vector

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F16 = npt.NDArray[np.float16]
I64 = npt.NDArray[np.int64]
_SHARDS = 2
_FORMAT = 3  # 2: float16 graphs (rebuilt from the database once)
# The shortlist: SHORTLIST_WIDTH x k candidates for k neighbours, searched with efSearch
# SHORTLIST_EF (benchmarks/similar_shortlist.py measures their recall).
SHORTLIST_WIDTH = 2
SHORTLIST_EF = 512


@dataclass(frozen=True, slots=True)
class IndexStatus:
    model: str
    vectors: int
    kind: str  # "exact" | "hnsw" | "empty"
    path: str | None
    shortlist: int = 0  # vectors in the similar papers' shortlist graph (0: none)


class VectorIndex:
    """Inner-product search over one model's stored vectors, keyed by paper pk."""

    def __init__(
        self,
        engine: Engine,
        model: str,
        *,
        exact_max: int = 300_000,
        graph_min: int = 100_000,
        folder: Path | None = None,
        min_refresh_interval: float = 5.0,
        count_interval: float = 60.0,
    ) -> None:
        self.engine = engine
        self.model = model
        self.exact_max = exact_max
        self.graph_min = graph_min
        self.folder = folder
        self.min_refresh_interval = min_refresh_interval
        # Vectors are counted (deletions noticed) this often; in between, a refresh asks
        # only when the newest was stored (new and re-embedded papers).
        self.count_interval = count_interval
        self.dimension = 0
        self._lock = threading.RLock()
        self._ids: I64 = np.zeros(0, dtype=np.int64)
        # The exact kind's float16 matrix; with a graph, empty (its codes are the vectors).
        self._vectors: F16 = np.zeros((0, 0), dtype=np.float16)
        self._codes = Codes.empty(0)
        self._order: I64 = np.zeros(0, dtype=np.int64)  # argsort of _ids
        self._faiss: Any = None
        self._kind = "empty"
        # The exact kind's shortlist graph from graph_min vectors (None: not built yet).
        self._shortlist: Any = None
        self._shortlist_busy = False
        self._generation = 0  # bumped by each rebuild: a shortlist built meanwhile is stale
        self._synced_at: dt.datetime | None = None
        self._checked = -1e18
        self._counted = -1e18
        self._loaded = False
        self._soon = RunSoon(f"refreshing the vector index of {model}")

    # ------------------------------------------------------------------ state

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def status(self) -> IndexStatus:
        shortlist = int(self._shortlist.ntotal) if self._shortlist is not None else 0
        path = str(self._path("")) or None
        return IndexStatus(self.model, len(self), self._kind, path, shortlist)

    def _path(self, suffix: str) -> Path | str:
        if self.folder is None:
            return ""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model)[:80]
        return self.folder / f"{slug}{suffix}"

    def refresh(self, *, force: bool = False, shortlist: bool = False) -> None:
        """Bring the index in step with the stored vectors (at most every
        ``min_refresh_interval`` seconds unless ``force``). Once loaded, whether anything
        changed is asked of the database without the lock held, and searches meanwhile go
        on: when the newest vector was stored, and every ``count_interval`` seconds how
        many there are (40-60 ms at 200k papers, 50-90 ms at 1M: a deleted paper's vector
        is noticed then). With ``shortlist``, then
        builds the shortlist graph when it is due and missing (build_shortlist: tens of
        seconds at 200k papers; refresh_soon does it off the request)."""
        self._sync(force)
        if shortlist:
            self.build_shortlist()

    def _sync(self, force: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._checked < self.min_refresh_interval:
                return
            self._checked = now
            state = (len(self), self._synced_at, self.dimension)
            loaded = self._loaded
            counting = force or now - self._counted >= self.count_interval
        if loaded and state[0]:
            with self.engine.connect() as connection:
                info = model_info(connection, self.model)
                if counting:
                    count, newest = count_vectors(connection, self.model)
                else:
                    count, newest = state[0], newest_vector(connection, self.model)
            if info is not None and (count, newest, info.dimension) == state:
                if counting:
                    self._counted = now
                return  # unchanged
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self._load_file()
            with self.engine.connect() as connection:
                info = model_info(connection, self.model)
                count, newest = count_vectors(connection, self.model)
                self._counted = now
                if info is None or count == 0:
                    self._reset(info.dimension if info else 0)
                    return
                if info.dimension != self.dimension:
                    self._reset(info.dimension)
                if count == len(self) and newest == self._synced_at:
                    return
                added = False
                if self._synced_at is not None and len(self) and count > len(self):
                    new_ids, new_vectors = _collect(
                        iter_vectors(connection, self.model, self.dimension, since=self._synced_at)
                    )
                    replaced = bool(np.isin(new_ids, self._ids).any())
                    if not replaced and len(self) + len(new_ids) == count:
                        self._add(new_ids, new_vectors)
                        added = True
                if not added:
                    self._rebuild_from(iter_vectors(connection, self.model, self.dimension), count)
                self._synced_at = newest
            self._save_file()

    def refresh_soon(self, executor: Executor) -> None:
        """Load the index now if it never was; later, when a refresh is due, run it on
        ``executor`` and answer at once: the caller searches the index as it is (a request
        would otherwise wait for the vectors' count every ``min_refresh_interval``: 40-100 ms
        at 200k papers on a busy machine)."""
        if not self._loaded:
            self.refresh(shortlist=False)  # the shortlist (when not saved) is built beside
            self._soon.ask(executor, self.build_shortlist)
            return
        with self._lock:
            due = time.monotonic() - self._checked >= self.min_refresh_interval
        if due:
            self._soon.ask(executor, functools.partial(self.refresh, shortlist=True))

    def _reset(self, dimension: int) -> None:
        self.dimension = dimension
        self._ids = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, dimension), dtype=np.float16)
        self._codes = Codes.empty(dimension)
        self._order = np.zeros(0, dtype=np.int64)
        self._faiss = None
        self._kind = "empty"
        self._synced_at = None
        self._shortlist = None
        self._generation += 1

    def _rebuild(self, ids: I64, vectors: F16) -> None:
        self._rebuild_from([(ids, vectors)], len(ids))

    def _rebuild_from(self, chunks: Iterable[tuple[I64, F16]], count: int) -> None:
        """A new index of these (ids, vectors) chunks; ``count`` vectors expected."""
        started = time.perf_counter()
        self._kind = "exact" if count <= self.exact_max else "hnsw"
        self._faiss = self._new_faiss()
        self._codes = Codes.empty(self.dimension)
        self._shortlist = None  # (built again off the lock: build_shortlist)
        self._generation += 1
        if self._kind == "exact":
            ids, vectors = _collect(chunks)
            self._vectors = vectors.reshape(len(ids), self.dimension)
            add_chunked(self._faiss, ids, self._vectors)  # (float32 a chunk at a time)
        else:
            # Straight into the graph: its storage then is the only copy of the vectors.
            self._vectors = np.zeros((0, self.dimension), dtype=np.float16)
            ids = fill_graph(self._faiss, chunks, count)
            self._codes = graph_codes(self._faiss, self.dimension)
        self._ids = ids
        self._order = np.argsort(ids, kind="stable")
        log.info(
            "vector index of %s: %d vectors (%s) in %.1f s",
            self.model,
            len(ids),
            self._kind,
            time.perf_counter() - started,
        )

    def _new_faiss(self) -> Any:
        d = self.dimension
        if self._kind == "hnsw":
            return new_graph(d)
        # Two shards searched on two threads; ids pass through (successive_ids=False), each
        # shard maps them itself, so later batches can be added in place.
        shards = faiss.IndexShards(d, True, False)  # type: ignore[call-arg]
        parts = [
            faiss.IndexIDMap2(
                faiss.IndexScalarQuantizer(
                    d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
                )
            )
            for _ in range(_SHARDS)
        ]
        for part in parts:
            shards.add_shard(part)
        shards.__dict__["_parts"] = parts  # keep the Python owners alive
        return shards

    def _add(self, ids: I64, vectors: F16) -> None:
        if len(self) + len(ids) > self.exact_max and self._kind == "exact":
            self._rebuild(
                np.concatenate([self._ids, ids]), np.concatenate([self._vectors, vectors])
            )
            return
        if self._kind == "hnsw":
            add_chunked(self._faiss, ids, vectors)  # the codes are the graph's storage
            self._codes = graph_codes(self._faiss, self.dimension)
        else:
            self._vectors = np.concatenate([self._vectors, vectors])
            self._faiss.add_with_ids(vectors.astype(np.float32), ids)
            if self._shortlist is not None:
                add_chunked(self._shortlist, ids, vectors)
        self._ids = np.concatenate([self._ids, ids])
        self._order = np.argsort(self._ids, kind="stable")

    # ------------------------------------------------------------------ persistence

    def _save_file(self) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # The shortlist first: interrupted after it, its file holds more ids than the
            # saved ones, or none after a rebuild, and is not used (_load_shortlist).
            self._save_shortlist()
            data = Path(self._path(".npz"))
            temporary = data.with_suffix(".tmp.npz")
            # With a graph the vectors are saved in it (once).
            saved = self._vectors if self._kind != "hnsw" else self._vectors[:0]
            np.savez(temporary, ids=self._ids, vectors=saved)
            temporary.replace(data)
            graph = Path(self._path(".hnsw"))
            if self._kind == "hnsw":
                faiss.write_index(self._faiss, str(graph) + ".tmp")
                Path(str(graph) + ".tmp").replace(graph)
            else:
                graph.unlink(missing_ok=True)
            meta = {
                "format": _FORMAT,
                "model": self.model,
                "dimension": self.dimension,
                "vectors": len(self),
                "kind": self._kind,
                "synced_at": self._synced_at.isoformat() if self._synced_at else None,
            }
            meta_path = Path(self._path(".json"))
            meta_path.with_suffix(".tmp").write_text(json.dumps(meta), encoding="utf-8")
            meta_path.with_suffix(".tmp").replace(meta_path)
        except (OSError, RuntimeError) as exc:  # (faiss raises RuntimeError)
            # The index still works in memory; the next start rebuilds it.
            log.warning("cannot save the vector index in %s: %s", self.folder, exc)

    def _save_shortlist(self) -> None:
        """Write the shortlist graph (or remove its file when there is none). Its file
        stands alone: at load it is checked against the saved ids (_load_shortlist)."""
        path = Path(self._path(".shortlist.hnsw"))
        if self._shortlist is None:
            path.unlink(missing_ok=True)
            return
        faiss.write_index(self._shortlist, str(path) + ".tmp")
        Path(str(path) + ".tmp").replace(path)

    def _load_shortlist(self) -> None:
        """The saved shortlist graph, when it holds the index's first vectors in order (the
        later ones are added); else none (built again by build_shortlist)."""
        path = Path(self._path(".shortlist.hnsw"))
        if self._kind != "exact" or len(self) < self.graph_min or not path.is_file():
            return
        try:
            graph: Any = faiss.read_index(str(path))
            graph_codes(graph, self.dimension)  # (raises ValueError when not such a graph)
            ids = graph_ids(graph)
            if len(ids) != graph.ntotal or not np.array_equal(ids, self._ids[: len(ids)]):
                raise ValueError("the saved shortlist does not hold the saved vectors")
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("ignoring the saved shortlist in %s: %s", self.folder, exc)
            return
        set_ef_search(graph, SHORTLIST_EF)
        add_chunked(graph, self._ids[len(ids) :], self._vectors[len(ids) :])
        self._shortlist = graph

    def build_shortlist(self) -> None:
        """Build the shortlist graph when the exact index holds ``graph_min`` vectors or
        more and has none: from the vectors as they are, without the lock (searches go on,
        similar papers by the exact scan meanwhile); then, under it, the vectors added
        meanwhile are added and it is put in place (dropped when the index was rebuilt
        meanwhile: the next refresh builds it again)."""
        with self._lock:
            if (
                self._kind != "exact"
                or len(self) < self.graph_min
                or self._shortlist is not None
                or self._shortlist_busy
            ):
                return
            self._shortlist_busy = True
            ids, vectors, generation = self._ids, self._vectors, self._generation
            dimension = self.dimension
        try:
            started = time.perf_counter()
            graph = new_graph(dimension, SHORTLIST_EF)
            starts = range(0, len(ids), CHUNK)
            chunks = ((ids[n : n + CHUNK], vectors[n : n + CHUNK]) for n in starts)
            fill_graph(graph, chunks, len(ids))
            with self._lock:
                if self._generation != generation or self._shortlist is not None:
                    return
                add_chunked(graph, self._ids[len(ids) :], self._vectors[len(ids) :])
                self._shortlist = graph
                log.info(
                    "shortlist graph of %s: %d vectors in %.1f s",
                    self.model,
                    graph.ntotal,
                    time.perf_counter() - started,
                )
                if self.folder is not None:
                    try:
                        self._save_shortlist()
                    except (OSError, RuntimeError) as exc:
                        log.warning("cannot save the shortlist in %s: %s", self.folder, exc)
        finally:
            with self._lock:
                self._shortlist_busy = False

    def _load_file(self) -> None:
        if self.folder is None:
            return
        try:
            meta = json.loads(Path(self._path(".json")).read_text(encoding="utf-8"))
            if meta.get("format") != _FORMAT or meta.get("model") != self.model:
                return
            dimension = int(meta["dimension"])
            with np.load(Path(self._path(".npz")), allow_pickle=False) as data:
                ids = np.asarray(data["ids"], dtype=np.int64)
                codes: Codes | None = None
                if meta.get("kind") == "hnsw":  # the vectors are in the graph
                    index: Any = faiss.read_index(str(self._path(".hnsw")))
                    codes = graph_codes(index, dimension)
                    graph: Any = faiss.downcast_index(index.index)
                    graph.hnsw.efSearch = HNSW_EF_SEARCH
                    shape = codes.codes.shape
                else:
                    index = None
                    vectors = np.asarray(data["vectors"], dtype=np.float16)
                    shape = vectors.shape
            if shape != (len(ids), dimension) or len(ids) != int(meta["vectors"]):
                return
            synced = dt.datetime.fromisoformat(meta["synced_at"]) if meta["synced_at"] else None
            self.dimension = dimension
            if codes is not None and len(ids) > self.exact_max:
                self._ids, self._codes, self._kind = ids, codes, "hnsw"
                self._vectors = np.zeros((0, dimension), dtype=np.float16)
                self._order = np.argsort(ids, kind="stable")
                self._faiss = index
            else:  # saved for another exact_max: rebuilt as this one wants
                if codes is not None:
                    vectors = codes.rows(np.arange(len(ids))).astype(np.float16)
                self._rebuild(ids, vectors)
                self._load_shortlist()
            self._synced_at = synced
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("ignoring the saved vector index in %s: %s", self.folder, exc)
            self._reset(self.dimension)

    # ------------------------------------------------------------------ queries

    def search(self, vector: F32, k: int, allowed: I64 | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest papers (pk, inner product), best first; only ``allowed`` pks when
        given."""
        with self._lock:
            if not len(self) or k <= 0:
                return []
            query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
            if allowed is not None:
                if len(allowed) == 0:
                    return []
                if len(allowed) <= 50_000 or self._kind == "hnsw":
                    return self._brute(query[0], allowed, k)
                params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))  # type: ignore[call-arg]
                scores, ids = self._faiss.search(query, min(k, len(self)), params=params)
            else:
                scores, ids = self._faiss.search(query, min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def neighbours(
        self, vector: F32, k: int, own: int | None = None, width: int | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest papers (pk, inner product), best first, for similar papers:
        with a shortlist graph, its ``width`` (SHORTLIST_WIDTH x k) nearest by the 8-bit
        codes rescored exactly from the float16 vectors (the scores are exact, which papers
        come in approximate); without one, search(). ``own``: the pk whose vector ``vector``
        is. The graph must find it (it is its own nearest): when it does not, the graph's
        walk got lost (on clustered vectors, 1-2% of papers) and the exact scan answers."""
        with self._lock:
            graph = self._shortlist
            if graph is None or not len(self) or k <= 0:
                return self.search(vector, k)
            query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
            wanted = min(len(self), max(k, width or SHORTLIST_WIDTH * k))
            _scores, found = graph.search(query, wanted)
            pks = found[0][found[0] >= 0]
            if own is not None and own not in pks:
                return self.search(vector, k)
            positions = self._positions(pks)
            pks, positions = pks[positions >= 0], positions[positions >= 0]
            scores = self._vectors[positions].astype(np.float32) @ query[0]
        top = np.lexsort((pks, -scores))[:k]
        return [(int(pks[i]), float(scores[i])) for i in top]

    def _positions(self, pks: I64) -> I64:
        """Positions of ``pks`` in the matrix (-1 for those not indexed)."""
        if not len(self):
            return np.full(len(pks), -1, dtype=np.int64)
        where = np.searchsorted(self._ids, pks, sorter=self._order)
        where = np.minimum(where, len(self._ids) - 1)
        positions = self._order[where]
        return np.where(self._ids[positions] == pks, positions, -1)

    def _brute(self, query: F32, pks: I64, k: int) -> list[tuple[int, float]]:
        positions = self._positions(np.asarray(pks, dtype=np.int64))
        keep = positions >= 0
        positions, pks = positions[keep], np.asarray(pks)[keep]
        if not len(positions):
            return []
        # In chunks: a float32 copy of half a million rows would be 0.77 GB.
        scores = np.empty(len(positions), dtype=np.float32)
        for start in range(0, len(positions), CHUNK):
            chunk = positions[start : start + CHUNK]
            if self._kind == "hnsw":
                scores[start : start + CHUNK] = self._codes.scores(chunk, query)
            else:
                scores[start : start + CHUNK] = self._vectors[chunk].astype(np.float32) @ query
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(pks[i]), float(scores[i])) for i in top]

    def scores(self, vector: F32, pks: list[int]) -> dict[int, float]:
        """Inner products of ``vector`` with these papers' vectors (those indexed)."""
        with self._lock:
            found = self._brute(np.asarray(vector, dtype=np.float32), np.asarray(pks), len(pks))
        return dict(found)

    def search_many(self, queries: F32, k: int, allowed: I64) -> list[list[tuple[int, float]]]:
        """For each row of ``queries``, the ``k`` nearest of the ``allowed`` papers (pk,
        inner product), best first: one pass over their vectors for all the queries."""
        with self._lock:
            positions = self._positions(np.asarray(allowed, dtype=np.int64))
            keep = positions >= 0
            positions, pks = positions[keep], np.asarray(allowed, dtype=np.int64)[keep]
            queries = np.ascontiguousarray(queries, dtype=np.float32)
            if not len(positions) or k <= 0 or not len(queries):
                return [[] for _ in range(len(queries))]
            scores = np.empty((len(positions), len(queries)), dtype=np.float32)
            for start in range(0, len(positions), CHUNK):
                part = self._rows(positions[start : start + CHUNK])
                scores[start : start + CHUNK] = part @ queries.T
        out = []
        for column in scores.T:
            top = np.argpartition(-column, k - 1)[:k] if k < len(column) else np.arange(len(column))
            top = top[np.lexsort((top, -column[top]))]
            out.append([(int(pks[i]), float(column[i])) for i in top])
        return out

    def vectors(self, pks: Sequence[int]) -> tuple[F32, npt.NDArray[np.bool_]]:
        """The indexed vectors of ``pks`` (zero rows for those not indexed) and which are."""
        with self._lock:
            positions = self._positions(np.asarray(pks, dtype=np.int64))
            found = positions >= 0
            out = np.zeros((len(positions), self.dimension or 1), dtype=np.float32)
            if found.any():
                out[found] = self._rows(positions[found])
        return out, found

    def vector(self, pk: int) -> F32 | None:
        """A paper's indexed vector, or None."""
        with self._lock:
            position = int(self._positions(np.asarray([pk], dtype=np.int64))[0])
            if position < 0:
                return None
            row: F32 = self._rows(np.asarray([position]))[0]
            return row

    def _rows(self, positions: I64) -> F32:
        """The vectors at these positions of the matrix, as float32 (decoded from the graph's
        codes)."""
        if self._kind == "hnsw":
            return self._codes.rows(positions)
        return np.asarray(self._vectors[positions], dtype=np.float32)


def _collect(chunks: Iterable[tuple[I64, F16]]) -> tuple[I64, F16]:
    id_parts: list[I64] = []
    vector_parts: list[F16] = []
    for ids, vectors in chunks:
        id_parts.append(ids)
        vector_parts.append(vectors)
    if not id_parts:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float16)
    return np.concatenate(id_parts), np.concatenate(vector_parts)


def default_index_folder(database_url: str, configured: str) -> Path | None:
    """The configured folder, or ``<database file>.index`` next to a SQLite database."""
    if configured:
        return Path(configured).expanduser()
    from sqlalchemy.engine import make_url

    with contextlib.suppress(Exception):
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).expanduser().with_name(Path(url.database).name + ".index")
    return None
