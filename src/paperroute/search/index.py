"""The vector index: the stored embeddings of one model, searchable by inner product (faiss).

Up to ``exact_max`` vectors the search is exact: float16 scalar-quantised flat indexes (the
stored vectors are float16, so nothing is lost), split in two shards searched on two threads.
Beyond, an HNSW graph (approximate). The index is kept in step with the database by
:meth:`VectorIndex.refresh`: new vectors are added; when vectors were deleted or replaced it is
rebuilt. It is persisted (ids, vectors, the HNSW graph) in a folder so a server starts fast.
Thread-safe: one lock around every read and change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine

from .vectors import count_vectors, iter_vectors, model_info

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F16 = npt.NDArray[np.float16]
I64 = npt.NDArray[np.int64]
_SHARDS = 2
_HNSW_M = 32
_HNSW_EF_CONSTRUCTION = 80
_HNSW_EF_SEARCH = 128
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class IndexStatus:
    model: str
    vectors: int
    kind: str  # "exact" | "hnsw" | "empty"
    path: str | None


class VectorIndex:
    """Inner-product search over one model's stored vectors, keyed by paper pk."""

    def __init__(
        self,
        engine: Engine,
        model: str,
        *,
        exact_max: int = 300_000,
        folder: Path | None = None,
        min_refresh_interval: float = 5.0,
    ) -> None:
        self.engine = engine
        self.model = model
        self.exact_max = exact_max
        self.folder = folder
        self.min_refresh_interval = min_refresh_interval
        self.dimension = 0
        self._lock = threading.RLock()
        self._ids: I64 = np.zeros(0, dtype=np.int64)
        self._vectors: F16 = np.zeros((0, 0), dtype=np.float16)
        self._order: I64 = np.zeros(0, dtype=np.int64)  # argsort of _ids
        self._faiss: Any = None
        self._kind = "empty"
        self._synced_at: dt.datetime | None = None
        self._checked = -1e18
        self._loaded = False

    # ------------------------------------------------------------------ state

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def status(self) -> IndexStatus:
        return IndexStatus(self.model, len(self), self._kind, str(self._path("")) or None)

    def _path(self, suffix: str) -> Path | str:
        if self.folder is None:
            return ""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model)[:80]
        return self.folder / f"{slug}{suffix}"

    def refresh(self, *, force: bool = False) -> None:
        """Bring the index in step with the stored vectors (at most every
        ``min_refresh_interval`` seconds unless ``force``)."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._checked < self.min_refresh_interval:
                return
            self._checked = now
            if not self._loaded:
                self._loaded = True
                self._load_file()
            with self.engine.connect() as connection:
                info = model_info(connection, self.model)
                count, newest = count_vectors(connection, self.model)
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
                    ids, vectors = _collect(iter_vectors(connection, self.model, self.dimension))
                    self._rebuild(ids, vectors)
                self._synced_at = newest
            self._save_file()

    def _reset(self, dimension: int) -> None:
        self.dimension = dimension
        self._ids = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, dimension), dtype=np.float16)
        self._order = np.zeros(0, dtype=np.int64)
        self._faiss = None
        self._kind = "empty"
        self._synced_at = None

    def _rebuild(self, ids: I64, vectors: F16) -> None:
        started = time.perf_counter()
        self._ids = ids
        self._vectors = vectors
        self._order = np.argsort(ids, kind="stable")
        self._kind = "exact" if len(ids) <= self.exact_max else "hnsw"
        self._faiss = self._new_faiss()
        if len(ids):
            self._faiss.add_with_ids(vectors.astype(np.float32), ids)
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
            graph = faiss.IndexHNSWFlat(d, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
            graph.hnsw.efSearch = _HNSW_EF_SEARCH
            return faiss.IndexIDMap2(graph)
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
        self._ids = np.concatenate([self._ids, ids])
        self._vectors = np.concatenate([self._vectors, vectors])
        self._order = np.argsort(self._ids, kind="stable")
        self._faiss.add_with_ids(vectors.astype(np.float32), ids)

    # ------------------------------------------------------------------ persistence

    def _save_file(self) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = Path(self._path(".npz"))
            temporary = data.with_suffix(".tmp.npz")
            np.savez(temporary, ids=self._ids, vectors=self._vectors)
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
        except OSError as exc:
            # The index still works in memory; the next start rebuilds it.
            log.warning("cannot save the vector index in %s: %s", self.folder, exc)

    def _load_file(self) -> None:
        if self.folder is None:
            return
        try:
            meta = json.loads(Path(self._path(".json")).read_text(encoding="utf-8"))
            if meta.get("format") != _FORMAT or meta.get("model") != self.model:
                return
            with np.load(Path(self._path(".npz")), allow_pickle=False) as data:
                ids = np.asarray(data["ids"], dtype=np.int64)
                vectors = np.asarray(data["vectors"], dtype=np.float16)
            dimension = int(meta["dimension"])
            if vectors.shape != (len(ids), dimension) or len(ids) != int(meta["vectors"]):
                return
            synced = dt.datetime.fromisoformat(meta["synced_at"]) if meta["synced_at"] else None
            self.dimension = dimension
            kind = "exact" if len(ids) <= self.exact_max else "hnsw"
            graph = Path(self._path(".hnsw"))
            if kind == "hnsw" and meta.get("kind") == "hnsw" and graph.is_file():
                index = faiss.read_index(str(graph))
                if index.ntotal != len(ids):
                    return
                self._ids, self._vectors, self._kind = ids, vectors, kind
                self._order = np.argsort(ids, kind="stable")
                self._faiss = index
            else:
                self._rebuild(ids, vectors)
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
        scores = self._vectors[positions].astype(np.float32) @ query
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(pks[i]), float(scores[i])) for i in top]

    def scores(self, vector: F32, pks: list[int]) -> dict[int, float]:
        """Inner products of ``vector`` with these papers' vectors (those indexed)."""
        with self._lock:
            found = self._brute(np.asarray(vector, dtype=np.float32), np.asarray(pks), len(pks))
        return dict(found)

    def vector(self, pk: int) -> F32 | None:
        """A paper's indexed vector, or None."""
        with self._lock:
            position = int(self._positions(np.asarray([pk], dtype=np.int64))[0])
            if position < 0:
                return None
            return np.asarray(self._vectors[position], dtype=np.float32)


def _collect(chunks: Any) -> tuple[I64, F16]:
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
