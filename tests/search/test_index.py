"""The vector index beyond ``exact_max``: an 8-bit HNSW graph whose storage is the only copy of
the vectors (lookups decode a view of its codes), kept in step by adds, saved and reloaded."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
from sqlalchemy import create_engine, select

from paperroute import Config, Hub, open_hub
from paperroute.search._index import VectorIndex
from paperroute.search.service import Mode
from paperroute.store.schema import papers
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records, rec


def _small(config: Config, exact_max: int = 100) -> Config:
    return Config(
        database_url=config.database_url,
        vector_index_dir=config.vector_index_dir,
        embed_batch_size=50,
        vector_exact_max=exact_max,
    )


def _stored_vectors(hub: Hub) -> dict[int, np.ndarray]:
    from paperroute.search._vectors import iter_vectors

    index = hub.search.index
    with hub._db.engine.connect() as connection:
        chunks = list(iter_vectors(connection, index.model, index.dimension))
    return {int(pk): v for ids, vectors in chunks for pk, v in zip(ids, vectors, strict=True)}


def _recall_at_10(index: VectorIndex, queries: np.ndarray, stored: dict[int, np.ndarray]) -> float:
    """recall@10 of the graph against exact search over the stored (float16) vectors."""
    pks = np.array(sorted(stored), dtype=np.int64)
    matrix = np.stack([stored[int(pk)] for pk in pks]).astype(np.float32)
    hits = 0
    for query in queries:
        approximate = {pk for pk, _ in index.search(query, 10)}
        exact = set(pks[np.argsort(-(matrix @ query), kind="stable")[:10]].tolist())
        hits += len(approximate & exact)
    return hits / (10 * len(queries))


def _decoded(index: VectorIndex) -> np.ndarray:
    return index._rows(np.arange(len(index)))


def _assert_codes_hold(
    index: VectorIndex, stored: dict[int, np.ndarray], trained_on: int | None = None
) -> None:
    """The graph's codes are its only copy of the vectors (a view of faiss's storage, one
    byte a dimension), decode as faiss reconstructs them, and the vectors the quantiser was
    trained on (the first ``trained_on``; all by default) decode to the stored ones within
    half a quantisation step."""
    codes = index._codes.codes
    assert codes.dtype == np.uint8 and codes.shape == (len(index), index.dimension)
    assert not codes.flags.owndata and index._vectors.size == 0
    storage = faiss.downcast_index(faiss.downcast_index(index._faiss.index).storage)
    decoded = _decoded(index)
    assert np.allclose(decoded, storage.reconstruct_n(0, len(index)), atol=1e-6)
    tolerance = index._codes.step / 2 + 1e-3  # (+ the stored float16's own rounding)
    for position, pk in enumerate(index._ids[:trained_on]):
        assert np.all(np.abs(decoded[position] - stored[int(pk)]) <= tolerance)


def test_the_graph_holds_the_only_copy_of_the_vectors(config: Config) -> None:
    with open_hub(_small(config), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        assert hub.search.embed() == 300
        index = hub.search.index
        assert index.status().kind == "hnsw" and len(index) == 300
        graph = faiss.downcast_index(index._faiss.index)
        assert isinstance(graph, faiss.IndexHNSWSQ)
        storage = faiss.downcast_index(graph.storage)
        assert storage.sq.qtype == faiss.ScalarQuantizer.QT_8bit
        stored = _stored_vectors(hub)
        _assert_codes_hold(index, stored)
        # Recall against exact search over the stored vectors, for papers' own vectors and
        # for text queries.
        embedder = HashEmbedder()
        texts = [r.title.split(":")[0] for r in corpus_records()[:40]]
        own = np.stack([stored[int(pk)] for pk in index._ids[:40]]).astype(np.float32)
        queries = np.concatenate([embedder.embed(texts), own])
        assert _recall_at_10(index, queries, stored) >= 0.95
        # Filtered search and per-paper lookups decode the view.
        allowed = index._ids[::3]
        found = index.search(own[3], 5, allowed=allowed)
        assert found[0][0] == int(index._ids[3]) and {pk for pk, _ in found} <= set(allowed)
        assert abs(found[0][1] - float(own[3] @ own[3])) < 0.01
        vector = index.vector(int(index._ids[7]))
        assert vector is not None and np.array_equal(vector, _decoded(index)[7])
        assert np.abs(vector - stored[int(index._ids[7])]).max() < 0.01


def test_adds_grow_the_graph_in_place_and_keep_the_view_right(config: Config) -> None:
    with open_hub(_small(config), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        index = hub.search.index
        before = index._faiss
        for n in range(1, 41):  # enough adds for faiss to move its storage
            hub.papers.ingest(
                [
                    rec(
                        f"new-{n}",
                        arxiv_id=f"2601.{n:05d}",
                        title=f"Gravitational wave lensing number {n}",
                        abstract=f"Lensing of gravitational waves by galaxy cluster {n}.",
                    )
                ]
            )
            assert hub.search.embed() == 1
        assert len(index) == 340 and index._faiss is before and index.status().kind == "hnsw"
        stored = _stored_vectors(hub)
        assert len(stored) == 340
        # (The hash embedder's vectors are sparse: words first seen in the added papers sit
        # in dimensions the first 300 left at 0, clamped to their trained range.)
        _assert_codes_hold(index, stored, trained_on=300)
        top = hub.search.query("Gravitational wave lensing number 17", mode=Mode.semantic, limit=1)
        assert [hit.id for hit in top.hits] == ["2601.00017"]


def test_an_exact_index_that_outgrows_its_limit_becomes_a_graph(config: Config) -> None:
    with open_hub(_small(config, exact_max=300), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        index = hub.search.index
        assert index.status().kind == "exact"
        hub.papers.ingest([rec("new", arxiv_id="2601.00001", title="One more", abstract="Beyond.")])
        hub.search.embed()
        assert index.status().kind == "hnsw" and len(index) == 301
        _assert_codes_hold(index, _stored_vectors(hub))  # rebuilt: trained on all 301
        assert index.vector(int(index._ids[-1])) is not None


def test_the_graph_is_saved_once_and_reloaded(config: Config) -> None:
    small = _small(config)
    with open_hub(small, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        first = hub.search.index
        codes = np.array(first._codes.codes)
        ids = first._ids.copy()
        folder = first.folder
    assert folder is not None
    (saved,) = folder.glob("*.npz")
    with np.load(saved) as data:
        assert len(data["ids"]) == 300 and data["vectors"].size == 0  # vectors: in the graph
    with open_hub(small, embedder=HashEmbedder()) as again:
        index = again.search.index
        index.refresh(force=True)
        assert index.status().kind == "hnsw" and len(index) == 300
        assert np.array_equal(index._ids, ids) and np.array_equal(index._codes.codes, codes)
        _assert_codes_hold(index, _stored_vectors(again))
        record = corpus_records()[5]
        top = again.search.query(record.title, mode=Mode.semantic, limit=1).hits
        assert [hit.id for hit in top] == [record.arxiv_id]
    # A larger limit: the saved graph's vectors are rebuilt into an exact index.
    with open_hub(_small(config, exact_max=1000), embedder=HashEmbedder()) as exact:
        index = exact.search.index
        index.refresh(force=True)
        assert index.status().kind == "exact" and len(index) == 300
        assert np.array_equal(np.sort(index._ids), np.sort(ids))


def test_a_foreign_or_broken_graph_file_is_ignored(config: Config) -> None:
    small = _small(config)
    with open_hub(small, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        folder = hub.search.index.folder
        dimension = hub.search.index.dimension
    assert folder is not None
    (graph,) = folder.glob("*.hnsw")
    # A float32 graph and a float16 one (older formats) with the right count: not ours, so
    # rebuilt.
    noise = np.random.default_rng(1).standard_normal((300, dimension)).astype(np.float32)
    flat = faiss.IndexIDMap2(faiss.IndexHNSWFlat(dimension, 8, faiss.METRIC_INNER_PRODUCT))
    flat.add_with_ids(noise, np.arange(300, dtype=np.int64))
    fp16 = faiss.IndexIDMap2(
        faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_fp16, 8, faiss.METRIC_INNER_PRODUCT)
    )
    fp16.add_with_ids(noise, np.arange(300, dtype=np.int64))
    faiss.write_index(flat, str(graph))
    for content in (None, "fp16", b"not a graph", b""):
        if content == "fp16":
            faiss.write_index(fp16, str(graph))
        elif isinstance(content, bytes):
            graph.write_bytes(content)
        with open_hub(small, embedder=HashEmbedder()) as again:
            record = corpus_records()[5]
            top = again.search.query(record.title, mode=Mode.semantic, limit=1).hits
            assert [hit.id for hit in top] == [record.arxiv_id]
            index = again.search.index
            assert len(index) == 300
            _assert_codes_hold(index, _stored_vectors(again))  # rebuilt from the database
        faiss.write_index(flat, str(graph))


def test_a_graph_built_from_many_chunks(tmp_path: Path) -> None:
    """Chunks from the database, one of them larger than a conversion batch (50k)."""
    index = VectorIndex(create_engine("sqlite://"), "chunked", exact_max=10, folder=tmp_path)
    index.dimension = 8
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((60_000, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    halves = vectors.astype(np.float16)
    ids = np.arange(1000, 61_000, dtype=np.int64)
    index._rebuild_from([(ids[:55_000], halves[:55_000]), (ids[55_000:], halves[55_000:])], 60_000)
    assert index.status().kind == "hnsw" and len(index) == 60_000
    stored = {int(pk): v for pk, v in zip(ids, halves, strict=True)}
    assert not index._codes.codes.flags.owndata and index._vectors.size == 0
    # Trained on the first 50,000 only: the last chunk's vectors decode as closely.
    errors = np.abs(_decoded(index) - halves.astype(np.float32))
    assert errors.max() < 0.01 and errors[55_000:].max() < 0.01
    assert _recall_at_10(index, halves[:30].astype(np.float32), stored) >= 0.95
    found = index.vector(1000 + 57_777)
    assert found is not None and np.abs(found - halves[57_777]).max() < 0.01
    assert index.vector(5) is None


def test_no_paper_is_lost_between_the_database_and_the_graph(config: Config) -> None:
    with open_hub(_small(config), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        with hub._db.engine.connect() as connection:
            pks = set(connection.scalars(select(papers.c.pk)))
        assert set(hub.search.index._ids.tolist()) == pks


def test_a_due_refresh_runs_beside_the_request(config: Config) -> None:
    """Once loaded, the index is refreshed on the executor: the caller goes on with the
    index as it is, and the vectors stored meanwhile are in it once the refresh ran."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    with open_hub(config, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records()[:40])
        assert hub.search.embed() == 40
        other = VectorIndex(hub._db.engine, hub.search.index.model, min_refresh_interval=0.0)
        with ThreadPoolExecutor(1) as executor:
            other.refresh_soon(executor)  # never loaded: loaded at once
            assert len(other) == 40
            hub.papers.ingest(corpus_records()[40:60])
            assert hub.search.embed() == 20
            busy = threading.Event()
            executor.submit(busy.wait, 30)  # the worker is busy until set
            other.refresh_soon(executor)  # due: queued, not run here
            assert len(other) == 40  # the caller searches the index as it was
            busy.set()
        assert len(other) == 60  # the executor ran it before closing
        with ThreadPoolExecutor(1) as executor:
            other.refresh_soon(executor)  # nothing changed: counted, nothing rebuilt
        assert len(other) == 60


def test_batched_lookups_agree_with_one_at_a_time(config: Config) -> None:
    """``vectors`` and ``search_many`` (For you's one pass for all interests) give what
    ``vector`` and ``search`` give, on the exact index and on the 8-bit graph."""
    with open_hub(_small(config, exact_max=1000), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        assert hub.search.embed() == 300
    for exact_max, kind in ((1000, "exact"), (100, "hnsw")):
        with open_hub(_small(config, exact_max=exact_max), embedder=HashEmbedder()) as hub:
            index = hub.search.index
            index.refresh(force=True)
            assert index.status().kind == kind
            pks = [int(pk) for pk in index._ids[:25]] + [10**9]
            matrix, found = index.vectors(pks)
            assert found.tolist() == [True] * 25 + [False] and not matrix[-1].any()
            for n, pk in enumerate(pks[:25]):
                assert np.array_equal(matrix[n], index.vector(pk))
            allowed = np.sort(index._ids[::2])
            queries = matrix[:4]
            many = index.search_many(queries, 7, allowed)
            for query, found_many in zip(queries, many, strict=True):
                alone = index.search(query, 7, allowed)
                assert [pk for pk, _ in found_many] == [pk for pk, _ in alone]
                assert np.allclose([s for _, s in found_many], [s for _, s in alone], atol=1e-5)
            assert index.search_many(queries, 7, np.array([10**9])) == [[]] * 4


def test_search_many_of_no_query_finds_nothing(config: Config) -> None:
    with open_hub(_small(config, exact_max=1000), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records()[:20])
        hub.search.embed()
        index = hub.search.index
        index.refresh(force=True)
        assert index.search_many(np.zeros((0, index.dimension), np.float32), 5, index._ids) == []
