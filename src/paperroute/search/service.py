"""Search use cases over one database: keyword, semantic and hybrid search, similar papers and
embedding. Held by the Hub (``hub.search``); the embedder and the vector index live on this
object, loaded when first needed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy.exc import SQLAlchemyError

from ..config import Config
from ..errors import ConfigError, NotFound
from ..model import Paper
from ..store import queries
from ..store.session import Database, resumable_write_error, storage_error
from ._demo_vectors import import_demo_vectors
from ._index import VectorIndex, default_index_folder
from ._semantic import (
    hidden_among,
    hybrid_ranking,
    keyword_ranking,
    load_hits,
    semantic_ranking,
    semantic_text,
    similar_ranking,
)
from ._terms import store_missing_bags
from ._vectors import embed_pending
from .embedder import MODEL_NAME, Embedder, load_embedder
from .keyword import FrequencyCache, KeywordHit
from .query import Query, parse_query

F32 = npt.NDArray[np.float32]
MAX_SEARCH_LIMIT = 200
_QUERY_CACHE = 256


class Mode(StrEnum):
    keyword = "keyword"
    semantic = "semantic"
    hybrid = "hybrid"


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: Query
    hits: tuple[KeywordHit, ...]
    notices: tuple[str, ...]
    mode: Mode = Mode.keyword  # the mode that produced the hits (hybrid may fall back)


def model_name(config_value: str) -> str:
    """The model name vectors are stored under for an ``embed_model`` setting."""
    if config_value == MODEL_NAME:
        return MODEL_NAME
    return Path(config_value).expanduser().resolve().name[:200]


@dataclass(frozen=True, slots=True)
class SimilarResult:
    paper: Paper
    pk: int
    hits: tuple[KeywordHit, ...]
    notices: tuple[str, ...]


class Searcher:
    """See the module docstring. Thread-safe for reads. Raises StorageError when the
    database fails."""

    def __init__(self, db: Database, config: Config, embedder: Embedder | None = None) -> None:
        self._db = db
        self.engine = db.engine
        self.config = config
        self._embedder = embedder
        self._embedder_error: str | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, F32] = OrderedDict()
        self.frequencies = FrequencyCache()
        # Similar papers search the vectors on it while the keyword side runs.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="paperroute-vectors")
        self.model = embedder.name if embedder else model_name(config.embed_model)
        self.index = VectorIndex(
            db.engine,
            self.model,
            exact_max=config.vector_exact_max,
            folder=default_index_folder(config.database_url, config.vector_index_dir),
        )

    # ------------------------------------------------------------------ embedder

    def embedder(self) -> Embedder:
        """The configured embedder (loaded once). Raises ConfigError."""
        with self._lock:
            if self._embedder is None:
                if self._embedder_error:
                    raise ConfigError(self._embedder_error)
                try:
                    self._embedder = load_embedder(
                        self.config.embed_model,
                        max_length=self.config.embed_max_length,
                        backend=self.config.embed_backend,
                    )
                except ConfigError as exc:
                    self._embedder_error = str(exc)
                    raise
            return self._embedder

    def query_vector(self, text: str) -> F32:
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        vector = np.asarray(self.embedder().embed([text])[0], dtype=np.float32)
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > _QUERY_CACHE:
                self._cache.popitem(last=False)
        return vector

    def embed(
        self,
        *,
        batch_size: int | None = None,
        on_start: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Embed every paper without a current vector, a batch per transaction (an
        interruption keeps every finished batch; see vectors.embed_pending). Returns how many
        were embedded."""
        try:
            done = embed_pending(
                self.engine,
                self.embedder(),
                max_length=self.config.embed_max_length,
                batch_size=batch_size or self.config.embed_batch_size,
                on_start=on_start,
                progress=progress,
            )
            self.index.refresh(force=True)
        except SQLAlchemyError as exc:
            raise resumable_write_error(exc) from exc
        return done

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def store_term_bags(
        self,
        on_start: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Store the term bags (for similar papers) of every paper without one
        (terms.store_missing_bags); returns how many were made."""
        try:
            return store_missing_bags(self.engine, on_start, progress)
        except SQLAlchemyError as exc:
            raise resumable_write_error(exc) from exc

    def import_demo_vectors(self) -> int:
        """Store the demo data's precomputed vectors (when they fit the configured model)."""
        stored = import_demo_vectors(
            self.engine, model=self.model, max_length=self.config.embed_max_length
        )
        if stored:
            self.index.refresh(force=True)
        return stored

    # ------------------------------------------------------------------ search

    def _vectors_ready(self, notices: list[str]) -> bool:
        self.index.refresh()
        if len(self.index) == 0:
            notices.append(
                f"no paper has a vector of {self.model} yet: run `paperroute embed` "
                "for semantic search"
            )
            return False
        return True

    def query(self, text: str, *, mode: Mode | str = Mode.keyword, limit: int = 20) -> SearchResult:
        """Search in ``mode`` (keyword, semantic or hybrid). Any text is a valid query: what
        cannot be used is reported in ``notices``, never raised; hybrid falls back to keyword
        search while no paper has a vector."""
        try:
            return self._query(text, Mode(mode), limit)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    def _query(self, text: str, mode: Mode, limit: int) -> SearchResult:
        query = parse_query(text)
        limit = max(1, min(limit, MAX_SEARCH_LIMIT))
        notices = list(query.notices)
        if query.empty:
            notices.append(
                "a search needs at least one word that is not excluded"
                if query.terms
                else "the query has no words to search for"
            )
            return SearchResult(query, (), tuple(notices), mode)
        wanted = semantic_text(query)
        used = mode
        vector: F32 | None = None
        if mode is not Mode.keyword and wanted:
            if self._vectors_ready(notices):
                try:
                    vector = self.query_vector(wanted)
                except ConfigError as exc:
                    notices.append(f"semantic search is unavailable: {exc}")
            if vector is None:
                if mode is Mode.semantic:
                    return SearchResult(query, (), tuple(notices), mode)
                notices.append("showing keyword results only")
                used = Mode.keyword
        elif mode is not Mode.keyword:
            used = Mode.keyword  # filters alone: the newest papers that pass them
        with self.engine.connect() as connection:
            if used is Mode.keyword or vector is None:
                hits = keyword_ranking(connection, query, limit)
            elif used is Mode.semantic:
                ranked = semantic_ranking(connection, self.index, vector, query, limit)
                hits = load_hits(connection, ranked)
            else:
                fused, known = hybrid_ranking(
                    connection,
                    self.index,
                    vector,
                    query,
                    limit,
                    self.config.hybrid_semantic_weight,
                )
                hits = load_hits(connection, fused, known)
        return SearchResult(query, tuple(hits), tuple(notices), used)

    def similar(self, ref: str, *, limit: int = 10) -> SimilarResult:
        """Papers similar to the paper ``ref`` (itself excluded): its text's BM25 neighbours
        fused with its vector neighbours. Raises NotFound, for a hidden paper too (as its
        page does)."""
        if "\x00" in ref:  # PostgreSQL refuses NUL in text: no paper has one
            raise NotFound(f"no paper {ref.replace(chr(0), '').strip()[:100]!r}")
        with self._db.read() as connection:
            pk = queries.find_paper_pk(connection, ref)
            if pk is None or hidden_among(connection, [pk]):
                raise NotFound(f"no paper {ref.strip()[:100]!r}")
            paper = queries.load_paper(connection, pk)
        try:
            hits, notices = self._similar(pk, paper.title, paper.abstract, limit=limit)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc
        return SimilarResult(paper, pk, tuple(hits), tuple(notices))

    def _similar(
        self, pk: int, title: str, abstract: str, *, limit: int = 10
    ) -> tuple[list[KeywordHit], list[str]]:
        limit = max(1, min(limit, MAX_SEARCH_LIMIT))
        notices: list[str] = []
        vector: F32 | None = None
        if self._vectors_ready(notices):
            vector = self.index.vector(pk)
            if vector is None:
                notices.append("this paper has no vector yet: showing keyword neighbours only")
        else:
            notices.append("showing keyword neighbours only")
        with self.engine.connect() as connection:
            ranked = similar_ranking(
                connection,
                self.index,
                pk,
                vector,
                title,
                abstract,
                limit,
                self.config.hybrid_semantic_weight,
                self.frequencies,
                self._pool,
            )
            return load_hits(connection, ranked), notices
