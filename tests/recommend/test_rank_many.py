"""Ranking many readers at once (the digests' path) picks what ranking each one alone picks:
the pure ``rank_many`` against a per-reader loop, and ``hub.recommend.for_many`` against
``hub.recommend.rank`` on real papers (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from paperroute import Hub, InvalidInput, PaperRecord
from paperroute.recommend import Profile, Seed
from paperroute.recommend.ranking import (
    RankSettings,
    ReaderSeeds,
    model_term_scores,
    rank_many,
    reader_models,
    recency_weights,
    score_readers,
    seed_terms,
    term_index,
    top_k,
)
from paperroute.search._terms import Bag, make_bag, term_counts


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _bags(rng: np.random.Generator, count: int) -> dict[int, Bag]:
    words = [f"w{n}" for n in range(300)]
    return {n: make_bag(term_counts(" ".join(rng.choice(words, 12)), "")) for n in range(count)}


def _readers(rng: np.random.Generator, count: int, vectors: np.ndarray) -> list[ReaderSeeds]:
    out = []
    for n in range(count):
        size = int(rng.integers(0, 40)) if n % 5 else 0 if n == 5 else int(rng.integers(1, 200))
        picked = rng.choice(len(vectors), size, replace=False)
        out.append(
            ReaderSeeds(
                vectors[picked],
                recency_weights(size),
                picked.tolist() if n % 3 else (),
                vectors[rng.choice(len(vectors), 2)] if n % 4 == 0 else None,
                rng.choice(50, 3).astype(np.int64) if n % 2 else None,
                rng.random(50).astype(np.float32) * 0.1 if n % 6 == 0 else None,
            )
        )
    return out


def test_rank_many_in_blocks_picks_what_each_reader_alone_picks() -> None:
    rng = np.random.default_rng(3)
    library = _unit(rng, 400, 32)
    candidates = _unit(rng, 50, 32)
    words = [f"w{n}" for n in range(300)]
    candidate_bags = [make_bag(term_counts(" ".join(rng.choice(words, 15)), "")) for _ in range(50)]
    readers = _readers(rng, 23, library)
    seed_bags = _bags(rng, 400)
    settings = RankSettings()
    positions, scores = rank_many(
        reader_models(readers, settings, block=5),
        candidates,
        10,
        settings,
        candidate_bags=candidate_bags,
        seed_bags=seed_bags,
        banned=[r.banned for r in readers],
        bonus=[r.bonus for r in readers],
        block=4,
    )
    assert positions.shape == (23, 10)
    terms = term_index(candidate_bags, settings)
    for n, reader in enumerate(readers):
        alone = score_readers([reader], candidates, terms, settings, seed_bags)[0]
        expected = sorted(range(50), key=lambda i: (-alone[i], i))[:10]
        assert positions[n].tolist() == expected, n
        np.testing.assert_allclose(scores[n], alone[expected], rtol=1e-5, atol=1e-6)
        if reader.banned is not None:
            assert not set(positions[n].tolist()) & set(reader.banned.tolist())


def test_top_k_is_sorted_best_first_ties_by_position() -> None:
    scores = np.array([[0.1, 0.5, 0.5, 0.9, -np.inf]], dtype=np.float32)
    best, values = top_k(scores, 3)
    assert best.tolist() == [[3, 1, 2]] and values[0].tolist() == pytest.approx([0.9, 0.5, 0.5])
    assert top_k(scores, 99)[0].shape == (1, 5)


def test_for_many_gives_each_reader_the_top_k_of_rank(
    rhub: Hub, records: list[PaperRecord]
) -> None:
    days: dict[str, dt.date] = {}
    for record in records:
        paper = rhub.papers.show(str(record.arxiv_id))
        announced = paper.announced_on or (paper.submitted_at and paper.submitted_at.date())
        assert announced is not None
        days[paper.id] = announced
    day = sorted(days.values())[len(days) // 2]
    window = [i for i, announced in days.items() if announced >= day]
    assert 50 < len(window) < 300
    # Seeds and negatives from before the window: ``rank`` leaves them out of its pool (and
    # so of its term statistics), ``for_many`` keeps one pool for every reader.
    ids = [str(r.arxiv_id) for r in records if r.arxiv_id and r.arxiv_id not in window]
    profiles = {
        "dg": Profile(seeds=tuple(Seed(i) for i in ids[30:38])),
        "few": Profile(seeds=(Seed(ids[0]), Seed(ids[5])), negatives=frozenset({ids[9]})),
        "many": Profile(seeds=tuple(Seed(i) for i in ids[:40])),
        "nothing": Profile(),
        "unknown": Profile(seeds=(Seed("2601.99999"),)),
    }
    plain = dataclasses.replace(rhub.recommend.settings, mmr_lambda=1.0)
    rhub.recommend.settings = plain
    many = rhub.recommend.for_many(profiles, window, k=10)
    assert many["nothing"] == [] and many["unknown"] == []
    for key in ("dg", "few", "many"):
        alone = rhub.recommend.rank(profiles[key], since=day, limit=10)
        assert [p.paper_id for p in many[key]] == [p.paper_id for p in alone], key
        assert [p.reason for p in many[key]] == [p.reason for p in alone], key
        assert not {p.paper_id for p in many[key]} & {s.paper_id for s in profiles[key].seeds}
    # A second run reads the models kept from the first: the same picks.
    assert rhub.recommend.for_many(profiles, window, k=10) == many
    with pytest.raises(InvalidInput):
        rhub.recommend.for_many(profiles, window, k=0)
    assert rhub.recommend.for_many(profiles, [], k=5) == {key: [] for key in profiles}


def test_a_paper_stored_after_a_ranking_joins_the_next_window(
    rhub: Hub, records: list[PaperRecord]
) -> None:
    # The window's papers come from days kept in memory: a paper stored (or re-dated)
    # after one ranking is a candidate of the next.
    seeds = [r for r in records if r.arxiv_id][:5]
    profile = Profile(seeds=tuple(Seed(str(r.arxiv_id)) for r in seeds))
    day = dt.date(2030, 1, 5)
    assert rhub.recommend.rank(profile, since=day, limit=5) == []
    newer = dataclasses.replace(
        seeds[0], arxiv_id="3001.00001", doi=None, announced_on=day, daily=()
    )
    assert rhub.papers.ingest([newer]).inserted == 1
    rhub.search.embed()
    rhub.search.store_term_bags()
    picks = rhub.recommend.rank(profile, since=day, limit=5)
    assert [p.paper_id for p in picks] == [rhub.papers.show("3001.00001").id]


def test_term_side_is_bm25_of_the_documented_profile() -> None:
    """The batched term side (seed matrix, top terms, dense + sparse products) against a
    plain loop over the definition: heaviest seeds, summed masses, the best terms by mass
    times idf (ties to the lower hash), weight mass x idf^(query_idf + 1), BM25, row max 1."""
    rng = np.random.default_rng(11)
    words = [f"w{n}" for n in range(60)]
    candidate_bags = [make_bag(term_counts(" ".join(rng.choice(words, 9)), "")) for _ in range(80)]
    seed_bags = {n: make_bag(term_counts(" ".join(rng.choice(words, 8)), "")) for n in range(30)}
    settings = RankSettings(term_seeds=6, query_terms=7)
    index = term_index(candidate_bags, settings)
    readers = [
        ReaderSeeds(
            np.eye(4, 16, dtype=np.float32),
            np.array([0.4, 0.3, 0.2, 0.1], np.float32),
            [3, 5, 7, 11],
        ),
        ReaderSeeds(_unit(rng, 10, 16), recency_weights(10), list(range(10, 20))),
        ReaderSeeds(_unit(rng, 2, 16), recency_weights(2), []),
    ]
    models = reader_models(readers, settings)
    got = model_term_scores(models, seed_terms(models, seed_bags, index), index, settings)

    lengths = np.array([b[1].sum() for b in candidate_bags], dtype=np.float64)
    df: dict[int, int] = {}
    for bag in candidate_bags:
        for term in bag[0].tolist():
            df[term] = df.get(term, 0) + 1
    idf = {t: np.log(1 + (80 - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    for n, reader in enumerate(readers):
        heaviest = sorted(range(len(reader.keys)), key=lambda i: (-reader.weights[i], i))[:6]
        mass: dict[int, float] = {}
        for i in heaviest:
            for term in seed_bags[reader.keys[i]][0].tolist():
                if term in df:
                    mass[term] = mass.get(term, 0.0) + float(reader.weights[i])
        chosen = sorted(mass, key=lambda t: (-mass[t] * idf[t], t))[:7]
        expected = np.zeros(80)
        for d, (terms, counts) in enumerate(candidate_bags):
            tf = dict(zip(terms.tolist(), counts.tolist(), strict=True))
            for t in chosen:
                if t in tf:
                    norm = 1.2 * (1 - 0.9 + 0.9 * lengths[d] / lengths.mean())
                    expected[d] += (
                        mass[t] * idf[t] ** (settings.query_idf + 1) * tf[t] * 2.2 / (tf[t] + norm)
                    )
        if expected.max() > 0:
            expected /= expected.max()
        np.testing.assert_allclose(got[n], expected, rtol=1e-4, atol=1e-6)
    assert got[2].max() == 0 and got[0].max() == 1


def test_top_k_keeps_the_first_of_many_equal_scores() -> None:
    scores = np.zeros((3, 200), dtype=np.float32)
    scores[1, 150] = 1.0
    scores[2, [5, 9]] = -np.inf
    best, _ = top_k(scores, 10)
    assert best[0].tolist() == list(range(10))
    assert best[1].tolist() == [150, *range(9)]
    assert best[2].tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 10, 11]


def test_recency_weights_are_zoteros_raised_to_a_power() -> None:
    zotero = 1.0 / (1.0 + np.log10(np.arange(6) + 1.0))
    np.testing.assert_allclose(recency_weights(6), zotero / zotero.sum(), rtol=1e-6)
    np.testing.assert_allclose(recency_weights(6, 0.0), np.full(6, 1 / 6), rtol=1e-6)
    gentle = recency_weights(6, 0.25)
    assert np.all(np.diff(gentle) < 0) and abs(float(gentle.sum()) - 1.0) < 1e-6
    assert gentle[0] / gentle[-1] < recency_weights(6)[0] / recency_weights(6)[-1]
    assert recency_weights(0).shape == (0,)
