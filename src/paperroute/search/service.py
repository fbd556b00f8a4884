"""Search use cases over one database: keyword, semantic and hybrid search, similar papers and
embedding. Held by the Hub (``hub.search``); the embedder and the vector index live on this
object, loaded when first needed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, exists, select
from sqlalchemy.exc import SQLAlchemyError

from ..config import Config
from ..errors import ConfigError, NotFound
from ..soon import RunSoon
from ..store import queries
from ..store.schema import papers
from ..store.schema_community import hidden_papers
from ..store.session import Database, resumable_write_error, storage_error
from . import _spelling, _suggest
from ._bag_store import BagStore
from ._demo_vectors import import_demo_vectors
from ._hybrid import hybrid_candidates, hybrid_ranking, semantic_window
from ._index import VectorIndex, default_index_folder
from ._named import first, named_in
from ._newest import NewestTerms
from ._semantic import (
    SEMANTIC_FLOOR,
    SEMANTIC_WINDOW,
    keyword_ranking,
    load_hits,
    passing,
    search_size,
    semantic_ranking,
    semantic_text,
)
from ._similar import similar_neighbours, similar_ranking
from ._terms import store_missing_bags
from ._vectors import embed_pending, iter_vectors, model_info
from .embedder import MODEL_NAME, Embedder, load_embedder
from .keyword import (
    TOTAL_CAP,
    Counted,
    FrequencyCache,
    KeywordHit,
    add_snippets,
    count_matches,
    keyword_total,
    paged_ranking,
)
from .query import MAX_QUERY_CHARS, Query, parse_query
from .results import (
    MAX_SEARCH_LIMIT,
    MAX_WINDOW,
    Mode,
    Names,
    SearchResult,
    SimilarResult,
    at_least,
    beyond,
    lacking,
)

F32 = npt.NDArray[np.float32]
# The index's nearest papers (pk, inner product), best first.
Nearest = list[tuple[int, float]]
_QUERY_CACHE = 256


def model_name(config_value: str) -> str:
    """The model name vectors are stored under for an ``embed_model`` setting."""
    if config_value == MODEL_NAME:
        return MODEL_NAME
    return Path(config_value).expanduser().resolve().name[:200]


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
        # Read again hourly on the pool below (warm_keywords), not on a request.
        self.frequencies = FrequencyCache(refreshed_apart=True)
        self.vocabulary = _spelling.Vocabulary(refreshed_apart=True)
        # PostgreSQL: the newest papers' terms, read at the start, hourly and when newer
        # papers are seen (warm_keywords).
        self.newest = NewestTerms()
        self._keywords = RunSoon(
            "reading the keyword frequencies, spelling vocabulary and newest papers' terms"
        )
        # Similar papers search the vectors, and searches embed the query, on it while
        # the keyword side runs.
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="paperroute-vectors")
        self.model = embedder.name if embedder else model_name(config.embed_model)
        # The floor was measured on all-MiniLM-L6-v2's cosines; another model's are unknown.
        self.floor = SEMANTIC_FLOOR if self.model == MODEL_NAME else -1.0
        self.bags = BagStore(db.engine, config.similar_bags_mb * 2**20)
        self.index = VectorIndex(
            db.engine,
            self.model,
            exact_max=config.vector_exact_max,
            graph_min=config.similar_graph_min,
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
            self.index.refresh(force=True, shortlist=True)
        except SQLAlchemyError as exc:
            raise resumable_write_error(exc) from exc
        return done

    def stored_vectors(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Every stored vector of the configured model: (paper pks, unit vectors as rows);
        empty arrays when none is stored. For whole-collection work (inferring categories
        from neighbours), not per request."""
        with self._db.read() as connection:
            info = model_info(connection, self.model)
            if info is None:
                return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
            parts = list(iter_vectors(connection, self.model, info.dimension))
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros((0, info.dimension), dtype=np.float32)
        pks = np.concatenate([p for p, _ in parts])
        vectors = np.concatenate([v for _, v in parts]).astype(np.float32)
        return pks, vectors

    def close(self) -> None:
        self.bags.close()
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
            self.index.refresh(force=True, shortlist=True)
        return stored

    # ------------------------------------------------------------------ search

    def warm_soon(self) -> None:
        """Start reading, off the requests, what similar papers hold in memory (the term
        bags, inverted: 6-10 s at 200k papers) and the vector index: a server's first
        similar-papers calls otherwise rank the database's way until the bags are read."""
        self.refresh_index_soon()
        self.bags.current_soon(self._pool)
        self._keywords_soon(force=True)

    def _keywords_soon(self, *, force: bool = False) -> None:
        """Have the pool read the keyword frequencies and the spelling vocabulary again
        when due (once at a time); searches go on with what is held meanwhile."""
        if force or self.frequencies.due() or self.vocabulary.due() or self.newest.due():
            self._keywords.ask(self._pool, self.warm_keywords)

    def warm_keywords(self) -> None:
        """Read what keyword searches keep in memory, when due: the frequency sample
        (PostgreSQL: totals estimated from it) and the spelling vocabulary (2-3 s each at
        1M papers on PostgreSQL, which a search would otherwise wait for), and PostgreSQL's
        newest papers' terms (NewestTerms: ~10 s at the start, then newer papers only)."""
        with self.engine.connect() as connection:
            self.frequencies.refresh(connection)
            self.vocabulary.load(connection)
            self.newest.refresh(connection)

    def refresh_index_soon(self) -> None:
        """Bring the vector index up to date off the request when a refresh is due (the
        caller goes on with the index as it is); see ``VectorIndex.refresh_soon``."""
        self.index.refresh_soon(self._pool)

    def _vectors_ready(self, notices: list[str]) -> bool:
        self.refresh_index_soon()
        if len(self.index) == 0:
            notices.append(
                f"no paper has a vector of {self.model} yet: run `paperroute embed` "
                "for semantic search"
            )
            return False
        return True

    def query(
        self,
        text: str,
        *,
        mode: Mode | str = Mode.keyword,
        limit: int = 20,
        offset: int = 0,
        correct: bool = True,
        offer: bool = True,
    ) -> SearchResult:
        """Search in ``mode`` (keyword, semantic or hybrid): the results ``offset`` to
        ``offset + limit`` (at most MAX_WINDOW deep) and their total. Any text is a valid
        query: what cannot be used is reported in ``notices``, never raised; hybrid falls
        back to keyword search while no paper has a vector. A query the keyword index
        matches nothing of is corrected from the index's vocabulary and the correction
        searched instead (``suggestion``); with ``correct`` false it is searched as typed
        and the correction offered (``did_you_mean``), unless ``offer`` is false too (as
        you type: no spelling looked up a keystroke)."""
        self._keywords_soon()
        try:
            return self._query(text, Mode(mode), limit, offset, correct, offer)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    def _vector_soon(self, wanted: str, notices: list[str]) -> Future[F32] | None:
        """The query's vector, computed on a worker thread while the keyword side runs."""
        if not wanted or not self._vectors_ready(notices):
            return None
        return self._pool.submit(self.query_vector, wanted)

    def _nearest_soon(
        self, pending: Future[F32] | None, mode: Mode, query: Query, wanted: int
    ) -> Future[Nearest | None] | None:
        """Hybrid: the index's nearest papers to the query's vector, searched on a worker
        thread as soon as the vector is there, while the keyword side ranks. (It waits on
        ``pending``, submitted before it: the pool takes tasks in order, so the embedding is
        running or done when this starts.)"""
        if mode is not Mode.hybrid or pending is None or not query.positive:
            return None
        return self._pool.submit(
            self._nearest, pending, search_size(query, semantic_window(wanted))
        )

    def _nearest(self, pending: Future[F32], size: int) -> Nearest | None:
        try:
            vector = pending.result()
        except (ConfigError, CancelledError):
            return None  # (the service reports it from the vector's future)
        return self.index.search(vector, size)

    def _query(
        self, text: str, mode: Mode, limit: int, offset: int, correct: bool, offer: bool
    ) -> SearchResult:
        query = parse_query(text)
        # The first MAX_WINDOW results at most: a page reaching past them is cut short there
        # (not moved back: offset 9,990 of 20 is the last 10, not results 9,980 to 10,000).
        offset = max(0, min(offset, MAX_WINDOW - 1))
        limit = max(1, min(limit, MAX_SEARCH_LIMIT, MAX_WINDOW - offset))
        notices = list(query.notices)
        if query.empty:
            notices.append(
                "a search needs at least one word that is not excluded"
                if query.terms
                else "the query has no words to search for"
            )
            return SearchResult(query, (), tuple(notices), mode, offset=offset)
        semantic_notices: list[str] = []
        pending = None
        if mode is not Mode.keyword:
            pending = self._vector_soon(semantic_text(query), semantic_notices)
        nearest = self._nearest_soon(pending, mode, query, offset + limit)
        suggestion: str | None = None
        did_you_mean: str | None = None
        with self.engine.connect() as connection:
            counted = self._count(connection, query) if query.positive else Counted(0)
            total = counted.total
            if total == 0 and query.positive and (correct or offer):
                # (Cut to what a search reads of it: 12,000 characters of a long typo.)
                fixed = (_spelling.correct(connection, self.vocabulary, query, text) or "")[
                    :MAX_QUERY_CHARS
                ]
                fixed_query = parse_query(fixed) if fixed else None
                matched = fixed_query is not None and self._total(connection, fixed_query)
                if matched and not correct:
                    did_you_mean = fixed
                elif matched and fixed_query is not None:
                    suggestion, query = fixed, fixed_query
                    counted = self._count(connection, query)
                    total = counted.total
                    if pending is not None:
                        pending.cancel()
                        semantic_notices = []
                        pending = self._vector_soon(semantic_text(query), semantic_notices)
                        nearest = self._nearest_soon(pending, mode, query, offset + limit)
            elif not query.positive:
                counted = Counted(self._total(connection, query))  # filters alone
                total = counted.total
            early: list[KeywordHit] | None = None
            if mode is Mode.hybrid and pending is not None and query.positive:
                # The keyword side runs while the worker embeds the query.
                wanted = hybrid_candidates(offset + limit)
                early = keyword_ranking(
                    connection, query, wanted, snippets=False, counted=counted, newest=self.newest
                )
            vector = self._vector(pending, semantic_notices)
            notices.extend(semantic_notices)
            if mode is Mode.semantic and vector is None and query.positive:
                return SearchResult(query, (), tuple(notices), mode, offset=offset)
            typed = suggestion or text
            found = self._ranked(
                connection,
                query,
                typed,
                mode,
                vector,
                limit,
                offset,
                counted,
                notices,
                early,
                None if nearest is None else nearest.result(),
            )
        used, hits, total, exact = found
        if total > TOTAL_CAP:  # counted no further: "more than"
            total, exact = TOTAL_CAP, False
        if mode is not Mode.keyword and used is Mode.keyword and query.positive:
            notices.append("showing keyword results only")
        if not hits and total == 0 and query.positive and used is not Mode.keyword:
            notices.append("no close matches: no paper has these words or is close in meaning")
        return SearchResult(
            query, tuple(hits), tuple(notices), used, total, exact, offset, suggestion, did_you_mean
        )

    def _total(self, connection: Connection, query: Query) -> int:
        return keyword_total(connection, query, frequencies=self.frequencies)

    def _count(self, connection: Connection, query: Query) -> Counted:
        return count_matches(connection, query, frequencies=self.frequencies)

    def _vector(self, pending: Future[F32] | None, notices: list[str]) -> F32 | None:
        if pending is None:
            return None
        try:
            return pending.result()
        except ConfigError as exc:
            notices.append(f"semantic search is unavailable: {exc}")
            return None

    def _ranked(
        self,
        connection: Connection,
        query: Query,
        typed: str,
        mode: Mode,
        vector: F32 | None,
        limit: int,
        offset: int,
        counted: Counted,
        notices: list[str],
        early: list[KeywordHit] | None = None,
        nearest: Nearest | None = None,
    ) -> tuple[Mode, list[KeywordHit], int, bool]:
        """(the mode used, the page's hits, the total, whether it is exact); a notice when
        the hybrid hits are close in meaning only (no keyword match, nothing named)."""
        wanted = offset + limit
        total = counted.total
        if mode is Mode.semantic and vector is not None and query.positive:
            # The closest SEMANTIC_WINDOW papers at most: every paper is some distance from
            # the query, and pages of them went on as far as one asked (page 100 of 100).
            window = SEMANTIC_WINDOW
            nearest = semantic_ranking(connection, self.index, vector, query, window)
            # Words the index holds make a real query (its nearest papers may sit under
            # the floor: a quarter of two-word title queries'); none, likely gibberish.
            floor = self.floor if total == 0 else -1.0
            close = [(pk, score) for pk, score in nearest if score >= floor]
            close_ones = sum(1 for _, score in nearest[:SEMANTIC_WINDOW] if score >= floor)
            exact = close_ones < min(len(nearest), SEMANTIC_WINDOW) or len(nearest) < window
            page = close[offset:wanted]
            return mode, load_hits(connection, page), close_ones, exact

        def rank(limit: int) -> list[KeywordHit]:
            return keyword_ranking(
                connection, query, limit, snippets=False, counted=counted, newest=self.newest
            )

        if mode is Mode.keyword or vector is None or not query.positive:
            ranked = paged_ranking(rank, wanted)
            named = self._named(connection, query, typed, ranked)
            by_pk = {hit.pk: hit for hit in ranked}
            order = first([(hit.pk, hit.score) for hit in ranked], named)[offset:wanted]
            hits = add_snippets(connection, query, load_hits(connection, order, by_pk))
            total += beyond(named, by_pk, total)
            return Mode.keyword, hits, *at_least(total, counted.exact, offset, hits)
        weight = self.config.hybrid_semantic_weight
        naming = named_in(connection, query, typed)
        passes: dict[int, bool] = {}

        def lift(hits: Sequence[KeywordHit]) -> list[int]:
            named = naming.among(hits)
            unknown = [pk for pk in named if pk not in passes]
            if unknown:  # (the filters, asked once a paper)
                keep = passing(connection, query, unknown)
                passes.update((pk, pk in keep) for pk in unknown)
            return [pk for pk in named if passes[pk]]

        if early is None:
            early = rank(hybrid_candidates(wanted))
        fused = hybrid_ranking(
            connection,
            self.index,
            vector,
            query,
            wanted,
            weight,
            self.floor,
            early,
            lift,
            total,
            nearest,
            rank,
            counted.matches,
        )
        order = fused.ranked[offset:wanted]
        # Snippets for every hit the words match, close-only ones too: a paper beyond the
        # keyword side's cap that holds the words shows them marked, as the others do.
        hits = add_snippets(connection, query, load_hits(connection, order, fused.keyword))
        named = lift(early)
        if hits and total == 0 and not named:
            notices.append(f"{lacking(query)}: these papers are close in meaning")
        extra = beyond(named, fused.keyword, total) + fused.close_only
        exact = fused.close_exact and counted.exact
        return mode, hits, *at_least(total + extra, exact, offset, hits)

    def _named(
        self, connection: Connection, query: Query, typed: str, hits: list[KeywordHit]
    ) -> list[int]:
        named = named_in(connection, query, typed).among(hits)
        if not named:
            return []
        keep = passing(connection, query, named)
        return [pk for pk in named if pk in keep]

    def suggest_names(self, typed: str, *, limit: int = 3) -> Names:
        """Authors and categories whose names start with ``typed``, for the search box."""
        with self._db.read() as connection:
            return Names(
                tuple(_suggest.authors(connection, typed, limit)),
                tuple(_suggest.categories(connection, typed, limit)),
            )

    def similar(self, ref: str, *, limit: int = 10) -> SimilarResult:
        """Papers similar to the paper ``ref`` (itself excluded): its vector neighbours and
        its distinctive words' neighbours ranked by meaning first, shared words second
        (search/_similar.py). Raises NotFound, for a hidden paper too (as its
        page does)."""
        if "\x00" in ref:  # PostgreSQL refuses NUL in text: no paper has one (its repr
            raise NotFound(f"no paper {ref.strip()[:100]!r}")  # shows the NUL as \x00)
        limit = max(1, min(limit, MAX_SEARCH_LIMIT))
        self._keywords_soon()
        # One connection throughout (on PostgreSQL each one is a BEGIN and a ROLLBACK).
        with self._db.read() as connection:
            pk = queries.find_paper_pk(connection, ref)
            if pk is None:
                raise NotFound(f"no paper {ref.strip()[:100]!r}")
            # The vector search (the longest step) starts before the paper is read.
            notices: list[str] = []
            vector, neighbours = self._similar_vectors(pk, limit, notices)
            held = self.bags.current_soon(self._pool)
            # Its text only (the whole paper, authors, days, provenance, is four more
            # queries that no caller of similar papers shows), and whether it is hidden.
            paper_id, title, abstract, hidden = connection.execute(
                select(
                    papers.c.id,
                    papers.c.title,
                    papers.c.abstract,
                    exists().where(hidden_papers.c.paper_pk == papers.c.pk),
                ).where(papers.c.pk == pk)
            ).one()
            if hidden:
                if neighbours is not None:
                    neighbours.cancel()
                raise NotFound(f"no paper {ref.strip()[:100]!r}")
            ranked = similar_ranking(
                connection,
                self.index,
                pk,
                vector,
                title,
                abstract,
                limit,
                self.frequencies,
                neighbours=neighbours,
                held=held,
            )
            hits = load_hits(connection, ranked)
        return SimilarResult(str(paper_id), pk, tuple(hits), tuple(notices))

    def _similar_vectors(
        self, pk: int, limit: int, notices: list[str]
    ) -> tuple[F32 | None, Future[list[tuple[int, float]]] | None]:
        """The paper's vector and its neighbours' search, started on the worker thread
        (None, None without one, with a notice)."""
        if not self._vectors_ready(notices):
            notices.append("showing keyword neighbours only")
            return None, None
        vector = self.index.vector(pk)
        if vector is None:
            notices.append("this paper has no vector yet: showing keyword neighbours only")
            return None, None
        k = similar_neighbours(limit)
        return vector, self._pool.submit(self.index.neighbours, vector, k + 1, pk)
