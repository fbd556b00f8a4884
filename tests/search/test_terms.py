"""Term bags (search/_terms.py): the stored form, the cosine they give, and keeping them in
step with the papers, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from paperroute import Hub
from paperroute.search._terms import (
    SourceWeights,
    bags_after,
    count_bags,
    decode_bag,
    encode_bag,
    load_bags,
    make_bag,
    store_missing_bags,
    term_counts,
    tfidf_cosines,
)
from paperroute.store.schema import papers
from paperroute.store.schema_vectors import paper_terms
from support.search_corpus import corpus_records, rec


def bag_count(hub: Hub) -> int:
    with hub._db.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(paper_terms)).scalar_one())


def pk_of(hub: Hub, paper_id: str) -> int:
    with hub._db.engine.connect() as connection:
        return int(
            connection.execute(select(papers.c.pk).where(papers.c.id == paper_id)).scalar_one()
        )


def test_terms_are_useful_words_and_their_two_word_sequences() -> None:
    counts = term_counts("Video Generation", "We propose video generation with 3 GPUs; the video.")
    assert counts["video"] == 3 and counts["generation"] == 2
    assert counts["video generation"] == 2
    # Stop words, numbers and short words are not terms, and sequences skip them.
    assert not {"we", "propose", "the", "with", "3"} & counts.keys()
    assert counts["generation gpus"] == 1


def test_a_bag_survives_encoding_and_a_bad_blob_is_refused() -> None:
    bag = make_bag(term_counts("Sparse attention", "sparse sparse attention kernels " * 300))
    ids, counts = decode_bag(encode_bag(bag))
    assert np.array_equal(ids, bag[0]) and np.array_equal(counts, bag[1])
    assert list(ids) == sorted(ids) and counts.max() == 255  # counts are capped
    for blob in (b"\x00\x01\x02", b"x" * 9):
        with pytest.raises(ValueError, match="5 bytes"):
            decode_bag(blob)
    assert decode_bag(b"")[0].size == 0


def reference_cosine(source: Counter[str], idf: dict[str, float], other: Counter[str]) -> float:
    """The cosine spelled out over terms (no hashing): the source's terms at their idf, the
    other's terms at the mean idf unless the source has them."""
    typical = sum(idf.values()) / len(idf)
    mine = {t: (1 + math.log(c)) * idf[t] for t, c in source.items()}
    theirs = {t: (1 + math.log(min(c, 255))) * idf.get(t, typical) for t, c in other.items()}
    dot = sum(w * theirs[t] for t, w in mine.items() if t in theirs)
    norms = math.sqrt(sum(w * w for w in mine.values())) * math.sqrt(
        sum(w * w for w in theirs.values())
    )
    return dot / norms if norms else 0.0


words = st.sampled_from(
    [
        "sparse",
        "attention",
        "kernel",
        "video",
        "generation",
        "diffusion",
        "model",
        "agents",
        "planning",
        "graph",
        "protein",
        "folding",
        "lattice",
        "quantum",
        "reward",
        "policy",
        "tokens",
        "memory",
    ]
)
texts = st.lists(words, max_size=60).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(source_text=texts, others=st.lists(texts, min_size=1, max_size=5), seed=st.integers(0, 99))
def test_cosines_match_the_cosine_spelled_out(
    source_text: str, others: list[str], seed: int
) -> None:
    source = term_counts("", source_text)
    rng = random.Random(seed)
    idf = {t: rng.uniform(1.0, 9.0) for t in source if " " not in t}
    for term in source:
        if " " in term:
            first, second = term.split(" ")
            idf[term] = max(idf[first], idf[second])
    counted = [term_counts("", text) for text in others]
    got = tfidf_cosines(source, idf, [make_bag(c) for c in counted])
    if not source:
        assert not got.any()
        return
    want = [reference_cosine(source, idf, c) for c in counted]
    assert got == pytest.approx(want, abs=1e-9)


def test_a_bags_cosine_does_not_depend_on_the_list_it_comes_in() -> None:
    # Similar papers score the keyword neighbours' bags while the vectors are searched and
    # the rest after: each bag's cosine must be exactly the one of a single list.
    records = corpus_records()
    source = term_counts(records[0].title, records[0].abstract)
    rng = random.Random(3)
    idf = {t: rng.uniform(1.0, 9.0) for t in source if " " not in t}
    for term in source:
        if " " in term:
            idf[term] = max(idf[w] for w in term.split(" "))
    bags = [make_bag(term_counts(r.title, r.abstract)) for r in records[:40]]
    bags.append((np.zeros(0, np.uint32), np.zeros(0, np.uint8)))
    whole = tfidf_cosines(source, idf, bags)
    weights = SourceWeights(source, idf)
    parts = np.concatenate([weights.cosines(bags[:7]), weights.cosines(bags[7:])])
    assert np.array_equal(whole, parts) and whole[0] > 0.99 and whole[-1] == 0.0
    assert len(weights.cosines([])) == 0


def test_bags_are_stored_once_and_used_as_made(shub: Hub) -> None:
    assert bag_count(shub) == 0
    totals: list[int] = []
    steps: list[int] = []
    assert store_missing_bags(shub._db.engine, totals.append, steps.append) == 300
    assert totals == [300] and sum(steps) == 300 and bag_count(shub) == 300
    assert store_missing_bags(shub._db.engine) == 0
    record = corpus_records()[5]
    pk = pk_of(shub, record.arxiv_id)
    with shub._db.engine.connect() as connection:
        stored = load_bags(connection, [pk])[pk]
    made = make_bag(term_counts(record.title, record.abstract))
    assert np.array_equal(stored[0], made[0]) and np.array_equal(stored[1], made[1])


def test_a_changed_text_drops_the_bag_and_the_new_one_is_made(shub: Hub) -> None:
    store_missing_bags(shub._db.engine)
    record = corpus_records()[9]
    pk = pk_of(shub, record.arxiv_id)
    # Same text again (another source's record): the bag stays.
    shub.papers.ingest(
        [rec("same", arxiv_id=record.arxiv_id, title=record.title, abstract=record.abstract)]
    )
    assert bag_count(shub) == 300
    shub.papers.ingest(
        [
            rec(
                "v2",
                arxiv_id=record.arxiv_id,
                title=record.title,
                abstract="Entirely new lattice gauge theory words.",
                version=9,
            )
        ]
    )
    assert bag_count(shub) == 299
    with shub._db.engine.connect() as connection:
        fallback = load_bags(connection, [pk])[pk]  # made from the new text meanwhile
    assert store_missing_bags(shub._db.engine) == 1
    with shub._db.engine.connect() as connection:
        assert np.array_equal(load_bags(connection, [pk])[pk][0], fallback[0])
    assert np.array_equal(
        fallback[0],
        make_bag(term_counts(record.title, "Entirely new lattice gauge theory words."))[0],
    )
    with shub._db.engine.begin() as connection:
        connection.execute(papers.delete().where(papers.c.pk == pk))
    assert bag_count(shub) == 299  # the paper's bag went with it


def test_a_missing_or_corrupt_bag_is_made_from_the_text(shub: Hub) -> None:
    records = corpus_records()
    pks = [pk_of(shub, r.arxiv_id) for r in records[:3]]
    with shub._db.engine.begin() as connection:
        connection.execute(insert(paper_terms).values(paper_pk=pks[0], terms=b"\x01\x02"))
    with shub._db.engine.connect() as connection:
        bags = load_bags(connection, [*pks, 10**9])
        again = load_bags(connection, [pks[1], pks[1], *pks])  # a pk twice: one bag
    assert set(bags) == set(pks)  # an unknown pk has no bag
    assert set(again) == set(pks) and np.array_equal(again[pks[1]][0], bags[pks[1]][0])
    for record, pk in zip(records, pks, strict=False):
        assert np.array_equal(bags[pk][0], make_bag(term_counts(record.title, record.abstract))[0])


def test_similar_papers_are_the_same_with_stored_bags(embedded: Hub) -> None:
    ref = corpus_records()[12].arxiv_id
    embedded.search.bags.refresh()  # held (from the text: none is stored), as a server does
    before = [(h.id, round(h.score, 9)) for h in embedded.search.similar(ref, limit=10).hits]
    assert embedded.search.store_term_bags() == 300
    after = [(h.id, round(h.score, 9)) for h in embedded.search.similar(ref, limit=10).hits]
    assert after == before and len(after) == 10


def test_an_updated_paper_keeps_its_bag_when_only_other_fields_change(shub: Hub) -> None:
    store_missing_bags(shub._db.engine)
    record = corpus_records()[2]
    shub.papers.ingest(
        [
            rec(
                "code",
                arxiv_id=record.arxiv_id,
                title=record.title,
                abstract=record.abstract,
                code_url="https://github.com/example/code",
            )
        ]
    )
    with shub._db.engine.connect() as connection:
        code = connection.execute(
            select(papers.c.code_url).where(papers.c.id == record.arxiv_id)
        ).scalar_one()
    assert code == "https://github.com/example/code" and bag_count(shub) == 300


def test_stored_bags_are_read_a_page_at_a_time_a_damaged_one_empty(shub: Hub) -> None:
    records = corpus_records()
    pks = sorted(pk_of(shub, r.arxiv_id) for r in records[:5])
    with shub._db.engine.begin() as connection:
        connection.execute(insert(paper_terms).values(paper_pk=pks[2], terms=b"\x01\x02"))
        for pk in (pks[0], pks[1], pks[3]):
            record = next(r for r in records[:5] if pk_of(shub, r.arxiv_id) == pk)
            bag = encode_bag(make_bag(term_counts(record.title, record.abstract)))
            connection.execute(insert(paper_terms).values(paper_pk=pk, terms=bag))
    with shub._db.engine.connect() as connection:
        first = bags_after(connection, 0, 2)
        rest = bags_after(connection, first[-1][0], 10)
        assert count_bags(connection) == 4 and count_bags(connection, pks[1]) == 2
    assert [pk for pk, _ in first + rest] == [pks[0], pks[1], pks[2], pks[3]]
    assert len(rest[0][1][0]) == 0  # the damaged one
    assert all(len(bag[0]) for pk, bag in first + rest if pk != pks[2])
