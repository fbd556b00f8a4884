"""Semantic, hybrid and similar-papers search on SQLite and PostgreSQL, with a deterministic
embedder: vectors stored and resumed, filters on both sides, hidden papers, fallbacks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert, select, update

from paperroute import Config, Hub, NotFound, open_hub
from paperroute.search.service import Mode
from paperroute.store.schema import papers
from paperroute.store.schema_community import hidden_papers
from paperroute.store.schema_vectors import embedding_models, embeddings
from support.embedders import FailingEmbedder, HashEmbedder
from support.search_corpus import corpus_records, rec

MODES = [Mode.keyword, Mode.semantic, Mode.hybrid]


def ids(hub: Hub, text: str, mode: Mode, limit: int = 20) -> list[str]:
    return [hit.id for hit in hub.search.query(text, mode=mode, limit=limit).hits]


def stored(hub: Hub) -> int:
    with hub._db.engine.connect() as connection:
        return len(connection.execute(select(embeddings.c.paper_pk)).all())


# -- storing vectors ----------------------------------------------------------------------


def test_embed_stores_float16_unit_vectors_once(shub: Hub, embedder: HashEmbedder) -> None:
    assert shub.search.embed() == 300
    with shub._db.engine.connect() as connection:
        rows = connection.execute(select(embeddings)).all()
        model = connection.execute(select(embedding_models)).one()
    assert len(rows) == 300 and model.model == "test-hash" and model.dimension == 256
    vectors = np.frombuffer(b"".join(r.vector for r in rows), dtype="<f2").reshape(300, 256)
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
    calls = embedder.texts
    assert shub.search.embed() == 0 and embedder.texts == calls  # resumable: nothing left to do


def test_a_changed_abstract_is_embedded_again_and_only_it(
    shub: Hub, embedder: HashEmbedder
) -> None:
    shub.search.embed()
    first = corpus_records()[0]
    changed = rec(
        first.source_key,
        arxiv_id=first.arxiv_id,
        title=first.title,
        abstract="A completely new abstract about turbulence.",
        authors=first.authors,
    )
    shub.papers.ingest([changed])
    before = embedder.texts
    assert shub.search.embed() == 1 and embedder.texts == before + 1


def test_a_new_model_version_makes_every_vector_stale(config: Config) -> None:
    with open_hub(config, embedder=HashEmbedder(version="1")) as hub:
        hub.papers.ingest(corpus_records()[:20])
        assert hub.search.embed() == 20
    with open_hub(config, embedder=HashEmbedder(version="2")) as hub:
        assert hub.search.embed() == 20
        assert stored(hub) == 20


def test_an_interrupted_embed_keeps_finished_batches_and_resumes(config: Config) -> None:
    with open_hub(config, embedder=FailingEmbedder(fail_at=3)) as hub:
        hub.papers.ingest(corpus_records())
        with pytest.raises(KeyboardInterrupt):
            hub.search.embed(batch_size=40)
        assert stored(hub) == 80  # two finished batches
    with open_hub(config, embedder=HashEmbedder()) as hub:
        assert hub.search.embed(batch_size=40) == 220
        assert stored(hub) == 300


def test_deleting_a_paper_deletes_its_vector(embedded: Hub) -> None:
    with embedded._db.engine.begin() as connection:
        connection.execute(papers.delete().where(papers.c.id == corpus_records()[0].arxiv_id))
    assert stored(embedded) == 299


# -- the vector index ---------------------------------------------------------------------


def test_the_index_is_persisted_and_reloaded(config: Config, embedded: Hub) -> None:
    assert embedded.search.index.status().vectors == 300
    folder = embedded.search.index.folder
    assert folder is not None and any(folder.iterdir())
    with open_hub(config, embedder=HashEmbedder()) as again:
        index = again.search.index
        index.refresh(force=True)
        assert len(index) == 300 and index.status().kind == "exact"


def test_new_vectors_are_added_without_a_rebuild(embedded: Hub) -> None:
    index = embedded.search.index
    before = index._faiss
    embedded.papers.ingest(
        [
            rec(
                "new-1",
                arxiv_id="2601.00001",
                title="Gravitational wave lensing",
                abstract="Lensing of gravitational waves by galaxies.",
            )
        ]
    )
    assert embedded.search.embed() == 1
    assert len(index) == 301 and index._faiss is before  # added in place
    top = embedded.search.query("gravitational lensing galaxies", mode=Mode.semantic, limit=1).hits
    assert [hit.id for hit in top] == ["2601.00001"]


def test_deleted_vectors_make_the_index_rebuild(embedded: Hub) -> None:
    index = embedded.search.index
    before = index._faiss
    gone = corpus_records()[0].arxiv_id
    with embedded._db.engine.begin() as connection:
        connection.execute(papers.delete().where(papers.c.id == gone))
    index.refresh(force=True)
    assert len(index) == 299 and index._faiss is not before
    assert gone not in ids(embedded, corpus_records()[0].title, Mode.semantic, 50)


def test_a_refresh_counts_the_vectors_only_every_count_interval(
    embedded: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between counts (50-90 ms at 1M papers), a refresh asks only when the newest vector was
    # stored: a new paper is searched within min_refresh_interval, a deleted one's vector
    # leaves the index by the next count.
    from paperroute.search import _index

    index = _index.VectorIndex(
        embedded._db.engine, embedded.search.model, min_refresh_interval=0.0, count_interval=3600
    )
    index.refresh()
    assert len(index) == 300
    counts: list[int] = []
    counting = _index.count_vectors

    def counted(connection: Any, model: str) -> Any:
        counts.append(1)
        return counting(connection, model)

    monkeypatch.setattr(_index, "count_vectors", counted)
    gone = corpus_records()[0].arxiv_id
    with embedded._db.engine.begin() as connection:
        connection.execute(papers.delete().where(papers.c.id == gone))
    index.refresh()
    assert len(index) == 300 and not counts  # not counted yet
    embedded.papers.ingest(
        [rec("new-2", arxiv_id="2601.00002", title="Lensing", abstract="Lensing of waves.")]
    )
    assert embedded.search.embed() == 1
    index.refresh()  # the newest vector moved: counted, the deletion seen with the addition
    assert len(index) == 300 and counts
    counts.clear()
    index.refresh()
    assert not counts  # unchanged: one index lookup
    index.count_interval = 0.0
    with embedded._db.engine.begin() as connection:
        connection.execute(papers.delete().where(papers.c.id == "2601.00002"))
    index.refresh()
    assert len(index) == 299 and counts


def test_hnsw_beyond_the_exact_limit(config: Config) -> None:
    small = Config(
        database_url=config.database_url,
        vector_index_dir=config.vector_index_dir,
        vector_exact_max=100,
    )
    with open_hub(small, embedder=HashEmbedder()) as hub:
        hub.papers.ingest(corpus_records())
        hub.search.embed()
        assert hub.search.index.status().kind == "hnsw"
        index = hub.search.index
        embedder = HashEmbedder()
        agree = 0
        for record in corpus_records()[:20]:
            vector = embedder.embed([record.title])[0]
            approximate = [pk for pk, _ in index.search(vector, 5)]
            exact = [pk for pk, _ in index._brute(vector, index._ids, 5)]
            agree += approximate[0] == exact[0]
        assert agree >= 19
    with open_hub(small, embedder=HashEmbedder()) as again:  # the graph is reloaded
        again.search.index.refresh(force=True)
        assert again.search.index.status().kind == "hnsw"
        assert len(again.search.index) == 300


# -- semantic and hybrid ------------------------------------------------------------------


def test_semantic_search_finds_a_paper_by_its_title(embedded: Hub) -> None:
    # (0704.0125 "... Part I" has a "Part II" whose text is as close.)
    records = corpus_records()[:20]
    first = sum(ids(embedded, r.title, Mode.semantic, 3)[0] == r.arxiv_id for r in records)
    within = sum(r.arxiv_id in ids(embedded, r.title, Mode.semantic, 3) for r in records)
    assert first >= 16 and within >= 19


def test_hybrid_ranks_the_titled_paper_first(embedded: Hub) -> None:
    for record in corpus_records()[10:20]:
        assert ids(embedded, record.title, Mode.hybrid, 3)[0] == record.arxiv_id


def test_hybrid_ranks_a_title_with_the_words_as_typed_first(embedded: Hub) -> None:
    embedded.papers.ingest(
        [
            rec(
                "exact",
                arxiv_id="2601.00031",
                title="Planning agents with graph search over long horizons in partial worlds",
                abstract="We plan.",
            ),
            rec(
                "stems",
                arxiv_id="2601.00032",
                title="Graphs for agent planning",
                abstract="Graphs, graphs and agent planning; planning agents on graphs.",
            ),
        ]
    )
    embedded.search.embed()
    found = ids(embedded, "graph planning agents", Mode.hybrid, 5)
    assert found[0] == "2601.00031"
    assert ids(embedded, "graphs agent planning", Mode.hybrid, 5)[0] == "2601.00032"


def test_scores_are_descending_and_limits_hold(embedded: Hub) -> None:
    for mode in MODES:
        hits = embedded.search.query("elliptic equations", mode=mode, limit=7).hits
        assert 0 < len(hits) <= 7
        scores = [hit.score for hit in hits]
        assert scores == sorted(scores, reverse=True)


def test_without_vectors_semantic_says_so_and_hybrid_falls_back(shub: Hub) -> None:
    semantic = shub.search.query("elliptic equations", mode=Mode.semantic)
    assert semantic.hits == () and any("paperroute embed" in n for n in semantic.notices)
    hybrid = shub.search.query("elliptic equations", mode=Mode.hybrid)
    keyword = shub.search.query("elliptic equations", mode=Mode.keyword)
    assert [h.id for h in hybrid.hits] == [h.id for h in keyword.hits] != []
    assert hybrid.mode is Mode.keyword
    assert any("keyword results only" in n for n in hybrid.notices)


def test_best_match_says_when_no_paper_has_the_words(embedded: Hub) -> None:
    # The papers shown are close in meaning only: a notice says so, naming a lone phrase.
    said = {
        '"boundary zzqxj"': "no paper has the exact phrase “boundary zzqxj”",
        "boundary zzqxj": "no paper has all of these words",
        '"boundary value" zzqxj': "no paper has all of these words and phrases",
        "zzqxj -boundary": "no paper that passes the exclusions has this word",
        '"boundary zzqxj" cat:math.AP': "no paper that passes the filters has the exact phrase",
        "boundary zzqxj -value cat:math.AP": "no paper that passes the filters and exclusions has",
    }
    for query, lacking in said.items():
        result = embedded.search.query(query, mode=Mode.hybrid, limit=5)
        assert result.hits and result.mode is Mode.hybrid, query
        told = [n for n in result.notices if n.endswith(": these papers are close in meaning")]
        assert len(told) == 1 and told[0].startswith(lacking), (query, result.notices)
    # A paper named by its id is no paper close in meaning: no notice.
    named = corpus_records()[0].arxiv_id
    assert named
    result = embedded.search.query(named, mode=Mode.hybrid, limit=5)
    assert result.hits[0].id == named and not any("no paper" in n for n in result.notices)
    # Words the index has, and the Meaning mode (which asks for no words): no notice.
    for query, mode in (('"boundary value"', Mode.hybrid), ("boundary zzqxj", Mode.semantic)):
        result = embedded.search.query(query, mode=mode, limit=5)
        assert result.hits and not any("no paper has" in n for n in result.notices), query


def test_a_missing_model_is_a_notice_not_an_error(database_url: str, tmp_path: object) -> None:
    config = Config(database_url=database_url, embed_model="/nonexistent/model-folder")
    with open_hub(config) as hub:
        hub.papers.ingest(corpus_records()[:5])
        hub.search.index.refresh(force=True)
        result = hub.search.query("equations", mode=Mode.hybrid)
        assert result.mode is Mode.keyword and result.notices


@pytest.mark.parametrize("mode", [Mode.semantic, Mode.hybrid])
def test_filters_apply_to_both_sides(embedded: Hub, mode: Mode) -> None:
    by_id = {r.arxiv_id: r for r in corpus_records()}
    for text, check in [
        ("equations cat:math.DG", lambda r: "math.DG" in r.categories),
        ("equations cat:math-ph", lambda r: "math-ph" in r.categories),
        ("equations -elliptic", lambda r: "elliptic" not in (r.title + r.abstract).lower()),
    ]:
        found = ids(embedded, text, mode, 30)
        assert found, text
        assert all(check(by_id[i]) for i in found), text


def test_author_and_date_and_code_filters(embedded: Hub) -> None:
    record = corpus_records()[3]
    surname = record.authors[0].split()[-1]
    for mode in (Mode.semantic, Mode.hybrid):
        found = ids(embedded, f"equations author:{surname}", mode)
        assert found and record.arxiv_id in found
        assert ids(embedded, "equations after:2100-01-01", mode) == []
        assert ids(embedded, "equations has:code", mode) == []


def test_a_narrow_filter_still_finds_its_papers(embedded: Hub) -> None:
    """Over-fetched neighbours may all fail a filter: the restricted search finds the rest."""
    rare = [r for r in corpus_records() if "math.PR" in r.categories]
    found = ids(embedded, "fluid dynamics cat:math.PR", Mode.semantic, 50)
    assert sorted(found) == sorted(r.arxiv_id for r in rare)


def test_hidden_papers_never_appear(embedded: Hub) -> None:
    record = corpus_records()[7]
    with embedded._db.engine.begin() as connection:
        pk = connection.execute(select(papers.c.pk).where(papers.c.id == record.arxiv_id)).scalar()
        connection.execute(
            insert(hidden_papers).values(
                paper_pk=pk, reason="spam", hidden_at=dt.datetime.now(dt.UTC)
            )
        )
    for mode in MODES:
        assert record.arxiv_id not in ids(embedded, record.title, mode, 50)
    other = corpus_records()[8].arxiv_id
    assert record.arxiv_id not in [h.id for h in embedded.search.similar(other, limit=50).hits]


# -- similar papers -----------------------------------------------------------------------


def test_similar_papers_exclude_the_paper_and_share_its_subject(embedded: Hub) -> None:
    record = corpus_records()[0]
    result = embedded.search.similar(record.arxiv_id, limit=10)
    found = [hit.id for hit in result.hits]
    assert len(found) == 10 and record.arxiv_id not in found and len(set(found)) == 10
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True) and result.notices == ()


def test_a_near_duplicate_is_the_most_similar(embedded: Hub) -> None:
    record = corpus_records()[42]
    embedded.papers.ingest(
        [
            rec(
                "dup",
                arxiv_id="2601.00042",
                title=record.title + " (extended)",
                abstract=record.abstract,
            )
        ]
    )
    embedded.search.embed()
    assert embedded.search.similar(record.arxiv_id, limit=3).hits[0].id == "2601.00042"


def test_similar_papers_are_reranked_by_shared_distinctive_words(embedded: Hub) -> None:
    record = corpus_records()[7]
    # A paper that repeats the record's title words (its most distinctive ones) ranks
    # among its nearest neighbours; one about something else does not.
    embedded.papers.ingest(
        [
            rec(
                "twin",
                arxiv_id="2601.00051",
                title="A note on " + record.title,
                abstract="Unrelated opening. " + record.title + ". " + record.abstract[:200],
            ),
            rec(
                "other",
                arxiv_id="2601.00052",
                title="Bird migration over oceans",
                abstract="Birds fly over oceans in spring; we count them.",
            ),
        ]
    )
    embedded.search.embed()
    found = [hit.id for hit in embedded.search.similar(record.arxiv_id, limit=10).hits]
    assert found[0] == "2601.00051" and "2601.00052" not in found


def test_similar_ranks_alike_whoever_starts_the_vector_search(embedded: Hub) -> None:
    # Searcher.similar starts the vector search before it reads the paper and passes it
    # on; similar_ranking started on an executor, or searching itself, ranks the same.
    from concurrent.futures import ThreadPoolExecutor

    from paperroute.search._similar import similar_neighbours, similar_ranking

    record = corpus_records()[21]
    served = [(h.pk, h.score) for h in embedded.search.similar(record.arxiv_id, limit=7).hits]
    index, frequencies = embedded.search.index, embedded.search.frequencies
    with embedded._db.engine.connect() as connection:
        pk = connection.execute(
            select(papers.c.pk).where(papers.c.id == record.arxiv_id)
        ).scalar_one()
        vector = index.vector(pk)
        assert vector is not None
        text_of = (record.title, record.abstract)
        alone = similar_ranking(connection, index, pk, vector, *text_of, 7, frequencies)
        with ThreadPoolExecutor(1) as pool:
            started = pool.submit(index.search, vector, similar_neighbours(7) + 1)
            given = similar_ranking(
                connection, index, pk, vector, *text_of, 7, frequencies, neighbours=started
            )
            on_pool = similar_ranking(
                connection, index, pk, vector, *text_of, 7, frequencies, executor=pool
            )
    assert len(served) == 7 and served == alone == given == on_pool


def test_words_cosines_order_candidates_by_the_texts_they_share(embedded: Hub) -> None:
    from paperroute.search._similar import words_cosines
    from paperroute.search._terms import load_bags
    from paperroute.search.keyword import FrequencyCache

    records = corpus_records()
    with embedded._db.engine.connect() as connection:
        pk = {row.id: row.pk for row in connection.execute(select(papers.c.pk, papers.c.id))}
        same, other = pk[records[3].arxiv_id], pk[records[200].arxiv_id]
        bags = load_bags(connection, [other, same])
        text_of = (records[3].title, records[3].abstract)
        got = words_cosines(connection, *text_of, [bags[other], bags[same]], FrequencyCache())
        assert got[1] > 0.99 and got[0] < got[1]
        empty = words_cosines(connection, "", "", [bags[other]], FrequencyCache())
        assert empty.tolist() == [0.0]
        assert len(words_cosines(connection, "x y", "z", [], FrequencyCache())) == 0


def test_similar_without_vectors_uses_keyword_neighbours(shub: Hub) -> None:
    result = shub.search.similar(corpus_records()[0].arxiv_id, limit=5)
    assert result.hits and any("keyword" in n for n in result.notices)


def test_similar_of_an_unknown_paper_is_not_found(embedded: Hub) -> None:
    for ref in ("9999.99999", "2601.\x0000001", "", "x" * 10_000, "doi:10.1/\u202e"):
        with pytest.raises(NotFound):
            embedded.search.similar(ref)


def test_a_changed_title_updates_search(embedded: Hub) -> None:
    record = corpus_records()[1]
    with embedded._db.engine.begin() as connection:
        connection.execute(
            update(papers)
            .where(papers.c.id == record.arxiv_id)
            .values(title="Quantum chromodynamics on the lattice", abstract="Lattice QCD gluons.")
        )
    assert embedded.search.embed() == 1
    assert ids(embedded, "lattice chromodynamics gluons", Mode.semantic, 1) == [record.arxiv_id]


def test_a_corrupt_saved_index_is_ignored_and_rebuilt(config: Config, embedded: Hub) -> None:
    folder = embedded.search.index.folder
    assert folder is not None
    for path in folder.iterdir():
        if path.suffix == ".npz":
            path.write_bytes(b"not an index")
    with open_hub(config, embedder=HashEmbedder()) as again:
        record = corpus_records()[9]
        assert ids(again, record.title, Mode.semantic, 3)[0] == record.arxiv_id
        assert len(again.search.index) == 300


def test_the_saved_index_is_used_at_start(config: Config, embedded: Hub) -> None:
    """A start with the saved index reads no vector from the database: vectors stored behind
    its back with the same count and time stay unseen (proof that the file was used)."""
    index = embedded.search.index
    with embedded._db.engine.begin() as connection:
        connection.execute(update(embeddings).values(vector=b"\x00" * len(index._vectors[0]) * 2))
    with open_hub(config, embedder=HashEmbedder()) as again:
        again.search.index.refresh(force=True)
        loaded = again.search.index
        assert len(loaded) == 300
        assert np.array_equal(loaded._vectors, index._vectors)


def test_hybrid_marks_the_words_in_every_hit_that_holds_them(
    embedded: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A keyword side of one candidate, and no check of which close papers match (as for a
    # very common word's): the close papers that hold the word must show it marked too.
    monkeypatch.setattr("paperroute.search.service.hybrid_candidates", lambda wanted: 1)
    monkeypatch.setattr("paperroute.search._hybrid.hybrid_candidates", lambda wanted: 1)
    monkeypatch.setattr("paperroute.search._hybrid.MATCHING_MAX", 0)
    by_id = {r.arxiv_id: r for r in corpus_records()}
    hits = embedded.search.query("equations", mode=Mode.hybrid, limit=20).hits
    holding = [h for h in hits if "equation" in by_id[h.id].abstract.lower()]
    assert len(holding) >= 2, "the corpus should give close papers that hold the word"
    unmarked = [h.id for h in holding if "\x02" not in h.snippet]
    assert unmarked == []


def test_meaning_pages_end_with_the_closest_papers_counted(embedded: Hub) -> None:
    # Every paper is some distance from a query: the Meaning mode pages through the closest
    # SEMANTIC_WINDOW (what its total counts), not on as far as one asks.
    from paperroute.search._semantic import SEMANTIC_WINDOW

    first = embedded.search.query("equations", mode=Mode.semantic, limit=10)
    assert first.total == SEMANTIC_WINDOW  # (300 papers: more than the window)
    last = embedded.search.query(
        "equations", mode=Mode.semantic, limit=10, offset=SEMANTIC_WINDOW - 10
    )
    assert len(last.hits) == 10
    beyond = embedded.search.query(
        "equations", mode=Mode.semantic, limit=10, offset=SEMANTIC_WINDOW
    )
    assert beyond.hits == () and beyond.total == SEMANTIC_WINDOW
