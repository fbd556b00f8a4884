"""The store's term counts, the term side's idf: counted from every stored term bag, brought
up to date with the bags stored since, counted again when bags were dropped; and the idf
``term_index`` takes from them (SQLite and PostgreSQL for the stored part)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from paperroute import Config, Hub, PaperRecord, open_hub
from paperroute.recommend.ranking import RankSettings, term_index
from paperroute.recommend.term_frequencies import TermFrequencies
from paperroute.search._terms import decode_bag, make_bag, term_counts
from support.community import Clock
from support.embedders import HashEmbedder
from support.search_corpus import rec


def _stored_counts(hub: Hub) -> tuple[Counter[int], int]:
    """Every stored bag's terms counted the plain way, and how many bags."""
    counted: Counter[int] = Counter()
    with hub._db.engine.connect() as connection:
        rows = connection.execute(text("SELECT terms FROM paper_terms")).all()
    for (blob,) in rows:
        counted.update(decode_bag(bytes(blob))[0].tolist())
    return counted, len(rows)


def _as_dict(frequencies: TermFrequencies) -> dict[int, int]:
    return dict(zip(frequencies.keys.tolist(), frequencies.counts.tolist(), strict=True))


def _hashes(words: list[str]) -> np.ndarray:
    return make_bag(term_counts(" ".join(words), ""))[0]


@given(
    st.lists(st.lists(st.sampled_from([f"w{n}" for n in range(40)]), max_size=8), max_size=12),
    st.integers(0, 12),
)
def test_adding_bags_counts_as_counting_them_all_at_once(
    papers: list[list[str]], split: int
) -> None:
    bags = [_hashes(words) for words in papers]
    split = min(split, len(bags))
    whole = TermFrequencies.count(bags, through=len(bags))
    halves = TermFrequencies.count(bags[:split], through=split).plus(bags[split:], len(bags))
    expected = Counter(h for bag in bags for h in bag.tolist())
    assert _as_dict(whole) == _as_dict(halves) == dict(expected)
    assert whole.papers == halves.papers == len(bags)
    assert halves.through == len(bags)
    unknown = np.array([12345], dtype=np.uint32)
    if 12345 not in expected:
        assert whole.of_terms(unknown).tolist() == [0]
    single = whole.without_single()
    assert _as_dict(single) == {h: n for h, n in expected.items() if n > 1}


def test_term_index_weighs_terms_by_the_stores_counts() -> None:
    settings = RankSettings()
    # Two candidates: "transformer" is in one of them but in half the store; "sheaf" is in
    # one of them and nowhere else.
    bags = [make_bag(term_counts("transformer", "")), make_bag(term_counts("sheaf", ""))]
    common, rare = bags[0][0][0], bags[1][0][0]
    local = term_index(bags, settings)
    idf = dict(zip(local.terms.tolist(), local.idf.tolist(), strict=True))
    assert idf[int(common)] == idf[int(rare)]  # two papers cannot tell them apart
    store = TermFrequencies.of(
        np.sort(np.array([common, rare], dtype=np.uint32)),
        np.array([1000, 1] if common < rare else [1, 1000], dtype=np.int64),
        papers=2000,
        through=2000,
    )
    counted = term_index(bags, settings, frequencies=store)
    idf = dict(zip(counted.terms.tolist(), counted.idf.tolist(), strict=True))
    assert idf[int(common)] < 1.0 and idf[int(rare)] > 5.0
    # A term the store's counts miss (counted before it was stored) counts as in as many
    # papers as the candidates holding it.
    empty = TermFrequencies.count([])
    assert np.allclose(term_index(bags, settings, frequencies=empty).idf, local.idf)


def test_the_counts_follow_new_and_dropped_bags(
    database_url: str, tmp_path: Path, records: list[PaperRecord]
) -> None:
    clock = Clock()
    config = Config(database_url=database_url, vector_index_dir=str(tmp_path / "index"))
    with open_hub(config, embedder=HashEmbedder(), clock=clock) as hub:
        hub.papers.ingest(records[:200])
        hub.search.store_term_bags()
        first = hub.recommend.count_terms()
        assert first is not None and first.papers == 200
        counted, _ = _stored_counts(hub)
        assert _as_dict(first) == {h: n for h, n in counted.items() if n > 1}

        hub.papers.ingest(records[200:])
        hub.search.store_term_bags()
        assert hub.recommend.count_terms() is first  # checked again after a minute only
        clock.advance(seconds=61)
        added = hub.recommend.count_terms()
        assert added is not None and added.papers == 300
        counted, _ = _stored_counts(hub)
        # The new bags are added to the kept counts: a term of one earlier paper only (not
        # kept) counts one paper short until the next full count.
        got = _as_dict(added)
        assert all(counted[h] - 1 <= n <= counted[h] for h, n in got.items())
        assert {h for h, n in counted.items() if n > 2} <= set(got)

        # A reworded paper's bag is dropped: fewer bags than counted, so all are counted again.
        changed = records[5]
        hub.papers.ingest(
            [rec("edit", arxiv_id=changed.arxiv_id, title=changed.title, abstract="Reworded.")]
        )
        clock.advance(seconds=61)
        again = hub.recommend.count_terms()
        counted, bags = _stored_counts(hub)
        assert bags == 299 and again is not None and again.papers == 299
        assert _as_dict(again) == {h: n for h, n in counted.items() if n > 1}

        # Once a day everything is counted again (a dropped bag made again is caught so).
        hub.search.store_term_bags()
        clock.advance(days=1)
        daily = hub.recommend.count_terms()
        counted, bags = _stored_counts(hub)
        assert daily is not None and daily.papers == bags == 300
        assert _as_dict(daily) == {h: n for h, n in counted.items() if n > 1}
