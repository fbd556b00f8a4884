"""Similar papers' term bags held in memory (search/_bag_store.py): held, a bag is the one
``load_bags`` reads from the database, and stays so as papers are added, reworded and
removed; similar papers rank the same with the bags held or read (``similar_bags_mb = 0``)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine, select

from paperroute import Config, Hub, open_hub
from paperroute.search import _bag_store as bag_store
from paperroute.search._bag_store import BagStore, HeldBags
from paperroute.search._postings import HeldPostings, PaperQuery, Postings, df_cap
from paperroute.search._terms import Bag, load_bags, make_bag, term_counts, useful_words
from paperroute.store.schema import papers
from paperroute.store.schema_vectors import paper_terms
from support.embedders import HashEmbedder
from support.search_corpus import corpus_records, rec


def _pks(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return [int(pk) for pk in connection.scalars(select(papers.c.pk).order_by(papers.c.pk))]


def _pk(engine: Engine, paper_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(papers.c.pk).where(papers.c.id == paper_id)).scalar_one()
        )


def _same(a: Bag, b: Bag) -> bool:
    return np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def _assert_held_as_stored(store: BagStore, engine: Engine) -> HeldBags:
    """Every paper's bag is held and equal to load_bags' (stored, else from its text)."""
    held = store.current()
    assert held is not None
    pks = _pks(engine)
    found, missing = held.get(pks)
    with engine.connect() as connection:
        expected = load_bags(connection, pks)
    assert not missing
    assert all(_same(found[pk], expected[pk]) for pk in pks)
    return held


def test_held_bags_are_the_stored_ones_as_papers_change(embedded: Hub) -> None:
    engine = embedded._db.engine
    assert embedded.search.store_term_bags() == 300  # as `paperroute embed` does
    store = BagStore(engine, 2**30)
    store.refresh()
    held = _assert_held_as_stored(store, engine)
    assert len(held.pks) == 300 and not held.overlay and held.nbytes > 300 * 50
    assert held.get([10**9]) == ({}, [10**9])

    # Reworded: its stored bag is dropped; held, it is made from the new text at once.
    record = corpus_records()[5]
    pk = _pk(engine, record.arxiv_id)
    new_text = "Entirely new lattice gauge theory words about gluon confinement."
    embedded.papers.ingest(
        [rec("v2", arxiv_id=record.arxiv_id, title=record.title, abstract=new_text, version=9)]
    )
    store.refresh()
    held = _assert_held_as_stored(store, engine)
    assert _same(held.get([pk])[0][pk], make_bag(term_counts(record.title, new_text)))
    # Looked at again: nothing is read again (the same pk and time).
    assert store.current() is not None
    before = store.current()
    store.refresh()
    assert store.current() is not None and store.current().overlay is before.overlay  # type: ignore[union-attr]

    # New papers: held once written (from their text), then as `paperroute embed` stores.
    embedded.papers.ingest(
        [
            rec(
                "new",
                arxiv_id="2601.09001",
                title="Quark gluon plasma viscosity",
                abstract="We measure the viscosity of a quark gluon plasma.",
            )
        ]
    )
    store.refresh()
    _assert_held_as_stored(store, engine)
    embedded.search.embed()
    assert embedded.search.store_term_bags() == 2
    store.refresh()
    held = _assert_held_as_stored(store, engine)
    assert held.through == max(_pks(engine))

    # Removed, and its pk given to the next paper (SQLite reuses the highest): the new one's.
    gone = max(_pks(engine))
    with engine.begin() as connection:
        connection.execute(papers.delete().where(papers.c.pk == gone))
    embedded.papers.ingest(
        [
            rec(
                "after",
                arxiv_id="2601.09002",
                title="Bird migration over oceans",
                abstract="Birds fly over oceans in spring; we count them.",
            )
        ]
    )
    store.refresh()
    _assert_held_as_stored(store, engine)


def test_a_write_whose_time_is_older_than_the_look_is_still_seen(embedded: Hub) -> None:
    # A write's time is taken before it commits: a look back _MARGIN finds it.
    engine = embedded._db.engine
    embedded.search.store_term_bags()
    now = [dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)]
    store = BagStore(engine, 2**30, clock=lambda: now[0])
    store.refresh()
    record = corpus_records()[7]
    new_text = "Reworded abstract on protein folding kinetics."
    embedded.papers.ingest(
        [rec("v2", arxiv_id=record.arxiv_id, title=record.title, abstract=new_text, version=9)]
    )
    now[0] += dt.timedelta(seconds=5)
    store.refresh()
    pk = _pk(engine, record.arxiv_id)
    held = _assert_held_as_stored(store, engine)
    assert _same(held.get([pk])[0][pk], make_bag(term_counts(record.title, new_text)))


def test_over_the_cap_nothing_is_held(embedded: Hub) -> None:
    embedded.search.store_term_bags()
    store = BagStore(embedded._db.engine, 1000)
    store.refresh()
    assert store.current() is None
    off = BagStore(embedded._db.engine, 0)
    off.refresh()
    assert off.current() is None


def test_with_the_bags_held_similar_papers_rank_by_the_stored_bags_postings(
    config: Config, embedded: Hub
) -> None:
    # Held, the keyword neighbours come from the postings of the held bags (_postings.py):
    # the same as postings made afresh from the bags load_bags reads. Read (nothing held),
    # from the database's index, as at 1M papers.
    refs = [r.arxiv_id for r in corpus_records()[:300:15]]
    engine = embedded._db.engine
    embedded.search.store_term_bags()
    embedded.search.bags.refresh()
    held = embedded.search.bags.current()
    assert held is not None and held.postings is not None
    pks = _pks(engine)
    with engine.connect() as connection:
        stored = load_bags(connection, pks)
    fresh = HeldPostings(Postings.of_bags(stored, df_cap(len(pks))))
    for ref in refs:
        pk = _pk(engine, ref)
        title, abstract = next((r.title, r.abstract) for r in corpus_records() if r.arxiv_id == ref)
        query = PaperQuery.of(useful_words(title), useful_words(abstract), 32, 10)
        assert held.postings.neighbours(query, 50, pk) == pytest.approx(
            fresh.neighbours(query, 50, pk)
        )
        assert embedded.search.similar(ref, limit=10).hits
    read_config = dataclasses.replace(config, similar_bags_mb=0)
    with open_hub(read_config, embedder=HashEmbedder()) as reading:
        for ref in refs:
            assert reading.search.bags.current() is None
            got = reading.search.similar(ref, limit=10).hits
            assert got and ref not in {h.id for h in got}


def test_papers_without_a_stored_bag_are_inverted_from_their_text(
    embedded: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bags not stored yet (the embed job makes them), or one damaged: those papers' bags
    # come from their text, into the overlay, and are inverted with the rest.
    engine = embedded._db.engine
    early = BagStore(engine, 2**30)
    early.refresh()
    held = _assert_held_as_stored(early, engine)
    assert held.postings is not None and len(held.overlay) == 300
    assert held.postings.counted == 300
    embedded.search.store_term_bags()
    damaged = _pks(engine)[7]
    with engine.begin() as connection:
        connection.execute(
            paper_terms.update().where(paper_terms.c.paper_pk == damaged).values(terms=b"abc")
        )
    late = BagStore(engine, 2**30)
    late.refresh()
    held = _assert_held_as_stored(late, engine)
    assert held.postings is not None and list(held.overlay) == [damaged]
    # More missing than the overlay may hold: nothing inverted (the database answers), and
    # everything read again after _INCOMPLETE_EVERY.
    monkeypatch.setattr(bag_store, "_overlay_limit", lambda held: 0)
    none = BagStore(engine, 2**30)
    none.refresh()
    assert none.current() is not None and none.current().postings is None  # type: ignore[union-attr]
