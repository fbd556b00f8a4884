"""Similar papers' shortlist (``similar_graph_min``): from that many vectors the exact index
keeps an 8-bit HNSW graph beside it, similar papers take their vector neighbours from it
rescored exactly from the float16 vectors, and it is saved, reloaded and grown by adds.
Here a threshold of 100 puts the 300-paper corpus on the shortlist path."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine

from paperroute import Config, Hub, open_hub
from paperroute.search._graph import fill_graph, new_graph
from paperroute.search._index import SHORTLIST_EF, VectorIndex
from paperroute.store.schema import papers
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records, rec


def _graph(config: Config, graph_min: int = 100) -> Config:
    return dataclasses.replace(config, similar_graph_min=graph_min)


def _exact(config: Config) -> Config:
    """The same database, no shortlist, its own index folder."""
    return dataclasses.replace(
        config, similar_graph_min=10**9, vector_index_dir=config.vector_index_dir + "-exact"
    )


def _similar_ids(hub: Hub, ref: str) -> list[str]:
    return [hit.id for hit in hub.search.similar(ref, limit=10).hits]


def _assert_same_as_exact(shortlisted: Hub, exact: Hub, refs: list[str]) -> None:
    """The shortlist's neighbours are the exact search's (same papers, same scores) and the
    similar papers are the same lists."""
    graph_index, exact_index = shortlisted.search.index, exact.search.index
    # Both hold the term bags, as a server does once started (until then similar papers
    # ask the database for their keyword neighbours: another ranking).
    shortlisted.search.bags.refresh()
    exact.search.bags.refresh()
    for ref in refs:
        assert _similar_ids(shortlisted, ref) == _similar_ids(exact, ref), ref
    for pk in graph_index._ids[:40]:
        vector = graph_index.vector(int(pk))
        assert vector is not None
        near = dict(graph_index.neighbours(vector, 101))
        wanted = dict(exact_index.search(vector, 101))
        # (Ties at the 101st place may pick another of the tied papers.)
        last = min(wanted.values())
        assert {p for p, s in wanted.items() if s > last + 1e-5} <= set(near)
        assert len(near) == 101 and min(near.values()) >= last - 1e-5
        for p in set(near) & set(wanted):
            assert abs(near[p] - wanted[p]) < 1e-5


def test_similar_papers_from_the_shortlist_equal_the_exact_path(config: Config) -> None:
    with open_hub(_graph(config), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        assert hub.search.embed() == 300
        status = hub.search.index.status()
        assert (status.kind, status.vectors, status.shortlist) == ("exact", 300, 300)
        with open_hub(_exact(config), embedder=HashEmbedder()) as exact:
            exact.search.index.refresh(force=True)
            assert exact.search.index.status().shortlist == 0
            refs = [r.arxiv_id for r in corpus_records()[::10] if r.arxiv_id]
            _assert_same_as_exact(hub, exact, refs)
        # Query-text search stays exact: it never reads the shortlist.
        query = hub.search.query_vector("graph neural networks")
        assert hub.search.index.search(query, 5) == exact_search(hub.search.index, query, 5)


def exact_search(index: VectorIndex, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    shortlist, index._shortlist = index._shortlist, None
    try:
        return index.search(query, k)
    finally:
        index._shortlist = shortlist


def test_below_the_threshold_there_is_no_shortlist(config: Config) -> None:
    with open_hub(_graph(config, graph_min=301), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        index = hub.search.index
        assert index.status().shortlist == 0
        assert index.folder is not None and not list(index.folder.glob("*.shortlist.hnsw"))
        vector = index.vector(int(index._ids[0]))
        assert vector is not None
        assert index.neighbours(vector, 50) == index.search(vector, 50)
        # One more paper reaches it: the next refresh builds the shortlist.
        hub.papers.ingest([rec("one", arxiv_id="2601.00001", title="One more", abstract="Yes.")])
        hub.search.embed()
        assert index.status().shortlist == 301
        assert list(index.folder.glob("*.shortlist.hnsw"))


def test_the_shortlist_is_saved_reloaded_and_grown_by_adds(config: Config) -> None:
    graph = _graph(config)
    with open_hub(graph, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        folder = hub.search.index.folder
    assert folder is not None
    (saved,) = folder.glob("*.shortlist.hnsw")
    with open_hub(graph, embedder=HashEmbedder()) as again:
        index = again.search.index
        # Loaded from its file (no build: shortlist=False builds nothing).
        index.refresh(force=True, shortlist=False)
        assert index.status().shortlist == 300
        before = index._shortlist
        new = [
            rec(
                f"new-{n}",
                arxiv_id=f"2601.{n:05d}",
                title=f"Gravitational wave lensing by cluster {n}",
                abstract=f"Strong lensing of gravitational waves by galaxy cluster {n}.",
            )
            for n in range(1, 6)
        ]
        again.papers.ingest(new)
        assert again.search.embed() == 5
        assert index._shortlist is before and index.status().shortlist == 305
        with open_hub(_exact(config), embedder=HashEmbedder()) as exact:
            exact.search.index.refresh(force=True)
            _assert_same_as_exact(again, exact, ["2601.00003", corpus_records()[7].arxiv_id or ""])
        assert "2601.00004" in _similar_ids(again, "2601.00003")
    # Saved with the adds; a file that does not hold the index's vectors is ignored.
    with open_hub(graph, embedder=HashEmbedder()) as third:
        third.search.index.refresh(force=True, shortlist=False)
        assert third.search.index.status().shortlist == 305
    saved.write_bytes(b"not a graph")
    with open_hub(graph, embedder=HashEmbedder()) as fourth:
        index = fourth.search.index
        index.refresh(force=True, shortlist=False)
        assert index.status().shortlist == 0
        index.build_shortlist()
        assert index.status().shortlist == 305
        assert saved.stat().st_size > 1000  # written again


def test_a_rebuild_builds_the_shortlist_again(config: Config) -> None:
    with open_hub(_graph(config), embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        index = hub.search.index
        first = index._shortlist
        gone = corpus_records()[0].arxiv_id
        with hub._db.engine.begin() as connection:
            connection.execute(papers.delete().where(papers.c.id == gone))
        index.refresh(force=True, shortlist=True)  # a deleted vector: rebuilt
        assert index._shortlist is not first and index.status().shortlist == 299
        with open_hub(_exact(config), embedder=HashEmbedder()) as exact:
            exact.search.index.refresh(force=True)
            _assert_same_as_exact(hub, exact, [r.arxiv_id or "" for r in corpus_records()[1:4]])


def test_the_first_load_builds_the_shortlist_beside_the_request(config: Config) -> None:
    """A server's first request loads the index at once, but a shortlist that was not saved
    is built on the executor: meanwhile similar papers use the exact scan."""
    with open_hub(config, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        model = hub.search.index.model
        index = VectorIndex(hub._db.engine, model, graph_min=100, min_refresh_interval=0.0)
        with ThreadPoolExecutor(1) as executor:
            busy = threading.Event()
            executor.submit(busy.wait, 30)
            index.refresh_soon(executor)
            assert len(index) == 300 and index.status().shortlist == 0
            vector = index.vector(int(index._ids[0]))
            assert vector is not None
            assert index.neighbours(vector, 20) == index.search(vector, 20)
            busy.set()
        assert index.status().shortlist == 300


def test_a_graph_walk_that_misses_the_paper_itself_falls_back_to_the_exact_scan(
    tmp_path: Path,
) -> None:
    """A paper is its own nearest: a shortlist without it got lost (or is missing it), so
    the exact scan answers; scores are the exact ones either way."""
    index = VectorIndex(create_engine("sqlite://"), "own", graph_min=10, folder=tmp_path)
    index.dimension = 16
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1, 401, dtype=np.int64)
    index._rebuild(ids, vectors.astype(np.float16))
    index.build_shortlist()
    assert index.status().shortlist == 400
    query = index.vector(7)
    assert query is not None
    exact = index.search(query, 30)
    assert index.neighbours(query, 30, own=7) == index.neighbours(query, 30)
    assert [p for p, _ in index.neighbours(query, 30, own=7)] == [p for p, _ in exact]
    # A graph of every vector but paper 7's: without the check it answers without it.
    partial = new_graph(16, SHORTLIST_EF)
    keep = ids != 7
    fill_graph(partial, [(ids[keep], vectors[keep].astype(np.float16))], int(keep.sum()))
    index._shortlist = partial
    assert 7 not in {p for p, _ in index.neighbours(query, 30)}
    assert index.neighbours(query, 30, own=7) == exact


def test_only_embedding_and_the_refresh_beside_a_request_build_the_shortlist(
    config: Config,
) -> None:
    """A plain refresh (For you's digest batches) never waits for the graph's build; the
    refresh a request asks for runs it on the executor."""
    with open_hub(config, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        model = hub.search.index.model
        index = VectorIndex(hub._db.engine, model, graph_min=100, min_refresh_interval=0.0)
        index.refresh()
        assert len(index) == 300 and index.status().shortlist == 0
        with ThreadPoolExecutor(1) as executor:
            index.refresh_soon(executor)  # loaded and due: refreshed (and built) there
        assert index.status().shortlist == 300
