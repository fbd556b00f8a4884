"""Similar papers' keyword neighbours from the held bags' postings (search/_postings.py):
the index holds what the bags hold, BM25 over it is BM25 over the bags, the bags read since
the index was built (the overlay) win, and similar papers use it with the bags held."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from paperroute import Hub
from paperroute.search._postings import (
    BM25_B,
    BM25_K1,
    HeldPostings,
    PaperQuery,
    Postings,
    bag_arrays,
)
from paperroute.search._terms import Bag, make_bag, term_hash
from paperroute.store.schema import papers
from paperroute.store.schema_community import hidden_papers
from support.search_corpus import rec

WORDS = [f"w{n}" for n in range(12)]


def _bags(texts: list[list[str]]) -> dict[int, Bag]:
    return {
        pk: make_bag({w: texts[pk - 1].count(w) for w in set(texts[pk - 1])})
        for pk in range(1, len(texts) + 1)
    }


def _build(bags: dict[int, Bag], max_df: int) -> Postings:
    return Postings.build(*bag_arrays(bags), max_df)


def _brute_bm25(bags: dict[int, Bag], terms: dict[str, int], total: int) -> dict[int, float]:
    """BM25 as _postings documents it, one paper and one term at a time."""
    lengths = {pk: float(bag[1].sum()) for pk, bag in bags.items()}
    average = sum(lengths.values()) / len(lengths)
    out: dict[int, float] = {}
    for term, df in terms.items():
        idf = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
        key = term_hash(term)
        for pk, (ids, counts) in bags.items():
            at = np.flatnonzero(ids == key)
            if not len(at):
                continue
            tf = float(counts[at[0]])
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[pk] / average)
            out[pk] = out.get(pk, 0.0) + idf * tf * (BM25_K1 + 1) / (tf + norm)
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=8), min_size=1, max_size=12),
    st.integers(min_value=1, max_value=6),
)
def test_the_index_holds_each_term_papers_and_counts(texts: list[list[str]], max_df: int) -> None:
    bags = _bags(texts)
    postings = _build(bags, max_df)
    # Each paper's length, an empty bag's too (one at the end cut the one before it short).
    assert postings.lengths.tolist() == [float(len(text)) for text in texts]
    for word in WORDS:
        holders = [pk for pk, text in enumerate(texts, 1) if word in text]
        df = int(postings.df(np.array([term_hash(word)], np.uint32))[0])
        # Every term in two papers or more is counted; one in a single paper is kept apart,
        # with that paper and its count.
        assert df == (len(holders) if len(holders) >= 2 else 0)
        lone = np.flatnonzero(postings.lone_keys == term_hash(word))
        if len(holders) == 1:
            (row,) = postings.lone_rows[lone].tolist()
            assert int(postings.pks[row]) == holders[0]
            assert postings.lone_counts[lone].tolist() == [texts[holders[0] - 1].count(word)]
        else:
            assert not len(lone)
        pks, scores = postings.scores(
            np.array([term_hash(word)], np.uint32), np.ones(1), postings.average
        )
        if 2 <= len(holders) <= max_df:
            assert sorted(pks.tolist()) == holders and (scores > 0).all()
        else:  # past max_df only its count is kept
            assert not len(pks)


def test_neighbours_are_bm25_over_the_bags_best_first() -> None:
    texts = [
        "alpha beta gamma",
        "alpha beta beta delta",
        "gamma delta epsilon",
        "alpha gamma gamma gamma zeta",
        "beta delta",
        "zeta eta theta",
    ]
    bags = _bags([t.split() for t in texts])
    held = HeldPostings(_build(bags, max_df=4))
    query = PaperQuery.of(["alpha"], ["beta", "gamma", "eta", "unseen"], terms=10, pairs=0)
    found = held.neighbours(query, k=3, exclude=1)
    # alpha (3 papers), beta (3), gamma (3), eta (1: no other paper) asked; paper 1 left out.
    expected = _brute_bm25(
        {pk: b for pk, b in bags.items()}, {"alpha": 3, "beta": 3, "gamma": 3}, total=6
    )
    expected.pop(1)
    best = sorted(expected.items(), key=lambda item: (-item[1], item[0]))[:3]
    assert list(found) == [pk for pk, _ in best]
    assert list(found.values()) == pytest.approx([score for _, score in best])
    # A term in more than max_df papers is not asked; nor is a query without a held term.
    assert HeldPostings(_build(bags, max_df=2)).neighbours(query, k=3, exclude=1) == {}


def test_a_pair_is_asked_as_its_own_term() -> None:
    bags = {
        1: make_bag({"monte": 1, "carlo": 1, "monte carlo": 1}),
        2: make_bag({"monte": 1, "carlo": 1, "monte carlo": 1}),
        3: make_bag({"carlo": 1, "monte": 1}),  # both words, not side by side
    }
    held = HeldPostings(_build(bags, max_df=5))
    query = PaperQuery.of(["monte", "carlo"], [], terms=0, pairs=5)  # the title's pair only
    assert list(held.neighbours(query, k=5, exclude=1)) == [2]


def test_the_overlay_wins_for_its_papers() -> None:
    base = {
        1: make_bag({"quark": 2, "gluon": 1}),
        2: make_bag({"quark": 1, "lattice": 1}),
        3: make_bag({"lattice": 1, "quark": 1}),
        5: make_bag({"muon": 1, "gluon": 1}),
    }
    # Paper 2 reworded (no "quark" now) and paper 4 new, both read since the index was built.
    overlay = {2: make_bag({"bird": 1}), 4: make_bag({"quark": 3, "bird": 1})}
    before = HeldPostings(_build(base, 10))
    held = before.with_overlay(*bag_arrays(base)[1:3], overlay)
    assert held.counted == 5  # the reworded paper counted once
    quark = np.array([term_hash("quark")], np.uint32)
    assert int(held.df(quark)[0]) == 3  # papers 1, 3 and 4; 2's old bag no longer counts
    query = PaperQuery.of(["quark"], [], terms=5, pairs=0)
    assert list(held.neighbours(query, k=5, exclude=1)) == [4, 3]


def test_a_new_paper_finds_the_one_old_paper_it_shares_a_rare_term_with() -> None:
    # "muon" is in one paper of the last full read: not in the base's postings (a term of
    # one paper finds no other), but the overlay brings that paper in for it.
    base = {
        1: make_bag({"quark": 2, "gluon": 1}),
        2: make_bag({"quark": 1, "lattice": 1}),
        3: make_bag({"muon": 2, "lattice": 1}),
    }
    held = HeldPostings(_build(base, 10)).with_overlay(
        *bag_arrays(base)[1:3], {9: make_bag({"muon": 1, "bird": 1})}
    )
    assert int(held.df(np.array([term_hash("muon")], np.uint32))[0]) == 2
    query = PaperQuery.of(["muon"], ["bird"], terms=5, pairs=0)
    assert list(held.neighbours(query, k=5, exclude=9)) == [3]


def test_a_paper_read_again_unchanged_scores_as_before() -> None:
    base = {n: make_bag({"quark": n, "gluon": 1, f"w{n}": 3}) for n in range(1, 8)}
    query = PaperQuery.of(["quark", "gluon"], [], terms=5, pairs=0)
    before = HeldPostings(_build(base, 10))
    again = before.with_overlay(*bag_arrays(base)[1:3], {2: base[2]})
    assert again.neighbours(query, k=5, exclude=1) == pytest.approx(
        before.neighbours(query, k=5, exclude=1)
    )
    assert again.counted == 7


def test_similar_papers_find_keyword_neighbours_in_the_held_postings(embedded: Hub) -> None:
    # Two new papers share a rare pair of words with nothing else: with the bags held, each
    # is the other's similar paper (the postings' overlay: written after the bags were read),
    # and a hidden one never is.
    embedded.search.store_term_bags()
    embedded.search.bags.refresh()
    assert embedded.search.bags.current() is not None
    abstract = (
        "Zymurgical xerophyte kinetics: we model zymurgical xerophyte growth in dry soils "
        "and measure zymurgical xerophyte yields over three seasons."
    )
    embedded.papers.ingest(
        [
            rec(
                "a", arxiv_id="2601.09101", title="Zymurgical xerophyte kinetics", abstract=abstract
            ),
            rec("b", arxiv_id="2601.09102", title="Zymurgical xerophyte yields", abstract=abstract),
        ]
    )
    embedded.search.embed()
    embedded.search.bags.refresh()
    held = embedded.search.bags.current()
    assert held is not None and held.postings is not None and held.postings.overlay is not None
    hits = embedded.search.similar("2601.09101", limit=5).hits
    assert hits and hits[0].id == "2601.09102"
    engine = embedded._db.engine
    with engine.begin() as connection:
        pk = connection.execute(select(papers.c.pk).where(papers.c.id == "2601.09102")).scalar_one()
        connection.execute(
            insert(hidden_papers).values(paper_pk=pk, reason="", hidden_at=dt.datetime.now(dt.UTC))
        )
    shown = [h.id for h in embedded.search.similar("2601.09101", limit=20).hits]
    assert shown and "2601.09102" not in shown
