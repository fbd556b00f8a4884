"""Similar papers judged by meaning (search/_similar.py), on real papers of the bundled demo
data with their real all-MiniLM-L6-v2 vectors (the demo's precomputed ones: no embedding
here), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, select

from paperroute import Config, Hub, PaperRecord, open_hub
from paperroute.search._similar import Pool, fuse_pool, similar_keyword, words_cosines, zscores
from paperroute.search._terms import load_bags
from paperroute.sources.jsonl import parse_jsonl
from paperroute.store.schema import papers

# A query paper of the judged set (../shared/data/judgments): "Identifying Implicit Premises
# for Logical Reconstruction of Argument Graphs". MEANING is graded 2 for it (LLM-based
# abduction of missing axioms), WORDS 0 (LLM uncertainty via logical answer graphs: more of
# its words, another subject). OTHERS: the rest of its judged candidates, as the collection.
QUERY = "2608.18821"
MEANING = "2607.15776"
WORDS = "2607.16868"
OTHERS = [
    "2608.00288",
    "2608.06292",
    "2607.18443",
    "2607.16808",
    "2608.08786",
    "2607.23513",
    "2607.27783",
    "2607.23019",
    "2607.21412",
    "2607.14149",
    "2608.12391",
    "2608.18820",
    "2607.20402",
    "2607.13073",
    "2607.13260",
    "2607.21933",
    "2607.27287",
]


def demo_records(ids: set[str]) -> list[PaperRecord]:
    blob = (resources.files("paperroute") / "data" / "arxiv-listings.jsonl.gz").read_bytes()
    found = [r for r in parse_jsonl(gzip.decompress(blob)) if isinstance(r, PaperRecord)]
    return [r for r in found if r.arxiv_id in ids]


@pytest.fixture
def demo_hub(database_url: str, tmp_path: Path) -> Iterator[Hub]:
    config = Config(database_url=database_url, vector_index_dir=str(tmp_path / "index"))
    with open_hub(config) as hub:
        wanted = {QUERY, MEANING, WORDS, *OTHERS}
        records = demo_records(wanted)
        assert {r.arxiv_id for r in records} == wanted
        hub.papers.ingest(records)
        assert hub.search.import_demo_vectors() == len(wanted)
        hub.search.store_term_bags()
        yield hub


def test_a_paper_close_in_meaning_ranks_above_one_that_only_shares_words(
    demo_hub: Hub,
) -> None:
    with demo_hub._db.engine.connect() as connection:
        pk = {row.id: row.pk for row in connection.execute(select(papers.c.pk, papers.c.id))}
        paper = connection.execute(
            select(papers.c.title, papers.c.abstract).where(papers.c.id == QUERY)
        ).one()
        bags = load_bags(connection, [pk[MEANING], pk[WORDS]])
        words = words_cosines(
            connection,
            paper.title,
            paper.abstract,
            [bags[pk[MEANING]], bags[pk[WORDS]]],
            demo_hub.search.frequencies,
        )
    # The word-overlap paper shares more of the query's distinctive words...
    assert words[1] > words[0]
    hits = [hit.id for hit in demo_hub.search.similar(QUERY, limit=30).hits]
    assert QUERY not in hits and set(hits) == {MEANING, WORDS, *OTHERS}
    # ... and the paper close in meaning ranks above it (tf-idf + 0.1 x cosine did not).
    assert hits.index(MEANING) < hits.index(WORDS)


def pool(meaning: list[float], words: list[float]) -> Pool:
    n = len(meaning)
    return Pool(
        np.arange(1, n + 1, dtype=np.int64),
        np.array(meaning, dtype=np.float64),
        np.array(words, dtype=np.float64),
        np.zeros(n),
        (),
    )


def test_fusion_weighs_meaning_over_words() -> None:
    # 2 is closest in meaning, 3 shares the most words: meaning wins at 0.65, words at 0.
    candidates = pool([0.5, 0.9, 0.4, 0.3], [0.10, 0.05, 0.30, 0.02])
    assert next(pk for pk, _ in fuse_pool(candidates)) == 2
    assert next(pk for pk, _ in fuse_pool(candidates, 0.0)) == 3
    scores = [score for _, score in fuse_pool(candidates)]
    assert scores == sorted(scores, reverse=True)


def test_fusion_edge_cases() -> None:
    assert fuse_pool(pool([], [])) == []
    # Equal scores everywhere: z-scores are 0, ties go to the smaller pk.
    assert [pk for pk, _ in fuse_pool(pool([0.5, 0.5], [0.1, 0.1]))] == [1, 2]
    assert zscores(np.array([1.0, 1.0])).tolist() == [0.0, 0.0]
    # Without vectors the words decide.
    no_vectors = Pool(np.array([1, 2]), np.zeros(0), np.array([0.1, 0.4]), np.zeros(2), ())
    assert [pk for pk, _ in fuse_pool(no_vectors)] == [2, 1]
    assert json.dumps([s for _, s in fuse_pool(no_vectors)])  # plain floats


def test_the_keyword_query_asks_each_stem_once(demo_hub: Hub) -> None:
    # The index holds stems: "premise" and "premises" are one term. Asked twice, BM25
    # counted the term twice and FTS5 walked its postings twice.
    title = "Implicit premises of argument graphs: premise reconstruction for arguments"
    abstract = (
        "We reconstruct implicit premises of argument graphs. Each premise is an argument's "
        "missing axiom; arguments with reconstructed premises form argument graphs, and the "
        "graph's premises are checked by logical reconstruction of arguments."
    )
    asked: list[dict[str, Any]] = []

    def record(_conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: Any) -> None:
        compiled = getattr(context, "compiled_parameters", None)
        params = compiled[0] if compiled else {}
        if "match" in params or "terms" in params:
            asked.append(params)

    engine = demo_hub._db.engine
    frequencies = demo_hub.search.frequencies
    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.connect() as connection:
            found = similar_keyword(connection, 0, title, abstract, 10, frequencies)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert found and len(asked) == 1
    params = asked[0]
    terms = (
        [t.strip('"') for t in params["match"].split(" OR ")]
        if "match" in params
        else list(params["terms"])
    )
    with engine.connect() as connection:
        stemmed = [tuple(frequencies.stems(connection, term.split())) for term in terms]
    assert len(stemmed) == len(set(stemmed)), terms
    # Both forms of several words are in the text, and each is asked once.
    assert {("premis",), ("argument",)} <= set(stemmed) or {("premis",), ("argu",)} <= set(
        stemmed
    ), stemmed
