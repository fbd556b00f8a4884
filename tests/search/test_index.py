"""The vector index beyond ``exact_max``: an fp16 HNSW graph whose storage is the only copy of
the vectors (the lookup matrix is a view of it), kept in step by adds, saved and reloaded."""

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


def _recall_at_10(index: VectorIndex, queries: np.ndarray) -> float:
    hits = 0
    for query in queries:
        approximate = {pk for pk, _ in index.search(query, 10)}
        exact = {pk for pk, _ in index._brute(query, index._ids, 10)}
        hits += len(approximate & exact)
    return hits / (10 * len(queries))


def test_the_graph_holds_the_only_copy_of_the_vectors(config: Config) -> None:
    with open_hub(_small(config), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        assert hub.search.embed() == 300
        index = hub.search.index
        assert index.status().kind == "hnsw" and len(index) == 300
        graph = faiss.downcast_index(index._faiss.index)
        assert isinstance(graph, faiss.IndexHNSWSQ)
        assert not index._vectors.flags.owndata  # a view of faiss's storage
        stored = _stored_vectors(hub)
        for position, pk in enumerate(index._ids):
            assert np.array_equal(index._vectors[position], stored[int(pk)])
        # Recall against exact search, for papers' own vectors and for text queries.
        embedder = HashEmbedder()
        texts = [r.title.split(":")[0] for r in corpus_records()[:40]]
        queries = np.concatenate([embedder.embed(texts), index._vectors[:40].astype(np.float32)])
        assert _recall_at_10(index, queries) >= 0.95
        # Filtered search and per-paper lookups read the view.
        allowed = index._ids[::3]
        found = index.search(index._vectors[3].astype(np.float32), 5, allowed=allowed)
        assert found[0][0] == int(index._ids[3]) and {pk for pk, _ in found} <= set(allowed)
        vector = index.vector(int(index._ids[7]))
        assert vector is not None and np.array_equal(vector, stored[int(index._ids[7])])


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
        for position, pk in enumerate(index._ids):
            assert np.array_equal(index._vectors[position], stored[int(pk)])
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
        assert not index._vectors.flags.owndata
        assert index.vector(int(index._ids[-1])) is not None


def test_the_graph_is_saved_once_and_reloaded(config: Config) -> None:
    small = _small(config)
    with open_hub(small, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        first = hub.search.index
        vectors = np.array(first._vectors)
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
        assert np.array_equal(index._ids, ids) and np.array_equal(index._vectors, vectors)
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
    # A float32 graph of the old format with the right count: not ours, so rebuilt.
    flat = faiss.IndexIDMap2(faiss.IndexHNSWFlat(dimension, 8, faiss.METRIC_INNER_PRODUCT))
    flat.add_with_ids(
        np.random.default_rng(1).standard_normal((300, dimension)).astype(np.float32),
        np.arange(300, dtype=np.int64),
    )
    faiss.write_index(flat, str(graph))
    for content in (None, b"not a graph", b""):
        if content is not None:
            graph.write_bytes(content)
        with open_hub(small, embedder=HashEmbedder()) as again:
            record = corpus_records()[5]
            top = again.search.query(record.title, mode=Mode.semantic, limit=1).hits
            assert [hit.id for hit in top] == [record.arxiv_id]
            index = again.search.index
            assert len(index) == 300 and not index._vectors.flags.owndata
            stored = _stored_vectors(again)  # rebuilt from the database, not the file
            assert all(
                np.array_equal(v, stored[int(pk)])
                for pk, v in zip(index._ids, index._vectors, strict=True)
            )
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
    assert np.array_equal(index._vectors, halves) and not index._vectors.flags.owndata
    assert _recall_at_10(index, halves[:30].astype(np.float32)) >= 0.95
    found = index.vector(1000 + 57_777)
    assert found is not None and np.array_equal(found, halves[57_777].astype(np.float32))
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
