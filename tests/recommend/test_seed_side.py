"""The nearest-seed side of the ranking (``recommend/_seed_side.py``) against a plain loop
over its definition, and ranking many readers with it against ranking each alone."""

from __future__ import annotations

import dataclasses

import numpy as np

from paperroute.recommend.ranking import (
    RankSettings,
    ReaderSeeds,
    rank_many,
    reader_models,
    recency_weights,
    score_readers,
    term_index,
)
from paperroute.search._terms import Bag, make_bag, term_counts


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _bag(rng: np.random.Generator, words: list[str], size: int) -> Bag:
    return make_bag(term_counts(" ".join(rng.choice(words, size)), ""))


def test_seed_side_is_the_documented_sum_of_each_seeds_closeness() -> None:
    """Each term seed's unit tf-idf vector (1 + ln tf, idf, the norm over its whole bag)
    against the candidates' BM25 term weights times idf, terms held by more than
    ``seed_max_df`` of the candidates left out; its ``seed_near`` best kept, raised to
    ``seed_power``; summed with the seeds' weights; added at ``seed_weight`` times the
    ratio of the rows' standard deviations."""
    rng = np.random.default_rng(5)
    words = [f"w{n}" for n in range(50)]
    candidate_bags = [_bag(rng, words, 10) for _ in range(40)]
    seed_bags = {n: _bag(rng, [*words, f"only{n}"], 9) for n in range(20)}
    settings = RankSettings(seed_weight=0.7, seed_power=2.0, seed_near=6, seed_max_df=0.3)
    off = dataclasses.replace(settings, seed_weight=0.0)
    index = term_index(candidate_bags, settings)
    readers = [
        ReaderSeeds(_unit(rng, 4, 8), np.array([0.4, 0.3, 0.2, 0.1], np.float32), [1, 4, 9, 2]),
        ReaderSeeds(_unit(rng, 7, 8), recency_weights(7), list(range(10, 17))),
    ]
    candidates = _unit(np.random.default_rng(99), 40, 8)
    got = score_readers(readers, candidates, index, settings, seed_bags)
    base = score_readers(readers, candidates, index, off, seed_bags)

    df: dict[int, int] = {}
    for bag in candidate_bags:
        for term in bag[0].tolist():
            df[term] = df.get(term, 0) + 1
    lengths = np.array([b[1].sum() for b in candidate_bags], dtype=np.float64)

    def idf(d: int) -> float:
        return float(np.log(1 + (40 - d + 0.5) / (d + 0.5)))

    def near(key: int) -> np.ndarray:
        terms, counts = seed_bags[key]
        weight = {
            t: (1 + np.log(c)) * idf(df.get(t, 1))
            for t, c in zip(terms.tolist(), counts.tolist(), strict=True)
        }
        norm = np.sqrt(sum(w * w for w in weight.values()))
        close = np.zeros(40)
        for d, (cterms, ccounts) in enumerate(candidate_bags):
            tf = dict(zip(cterms.tolist(), ccounts.tolist(), strict=True))
            for t, w in weight.items():
                if t in tf and df[t] <= 0.3 * 40:
                    length_norm = 1.2 * (1 - 0.9 + 0.9 * lengths[d] / lengths.mean())
                    bm25 = tf[t] * 2.2 / (tf[t] + length_norm)
                    close[d] += w / norm * idf(df[t]) * bm25
        kth = np.sort(close)[-6]
        return np.where(close >= kth, close, 0.0) ** 2

    for n, reader in enumerate(readers):
        side = sum(
            float(w) * near(int(k)) for k, w in zip(reader.keys, reader.weights, strict=True)
        )
        assert isinstance(side, np.ndarray) and side.std() > 0
        expected = base[n] + 0.7 * base[n].std() / side.std() * side
        np.testing.assert_allclose(got[n], expected, rtol=1e-4, atol=1e-5)


def test_rank_many_with_the_seed_side_picks_what_each_reader_alone_picks() -> None:
    rng = np.random.default_rng(8)
    words = [f"w{n}" for n in range(200)]
    library = _unit(rng, 300, 16)
    seed_bags = {n: _bag(rng, words, 14) for n in range(300)}
    candidates = _unit(rng, 60, 16)
    candidate_bags = [_bag(rng, words, 14) for _ in range(60)]
    readers = []
    for _ in range(17):
        picked = rng.choice(300, int(rng.integers(1, 30)), replace=False)
        readers.append(ReaderSeeds(library[picked], recency_weights(len(picked)), picked.tolist()))
    settings = RankSettings(seed_near=8, term_seeds=12)
    positions, scores = rank_many(
        reader_models(readers, settings),
        candidates,
        10,
        settings,
        candidate_bags=candidate_bags,
        seed_bags=seed_bags,
        block=4,
    )
    terms = term_index(candidate_bags, settings)
    for n, reader in enumerate(readers):
        alone = score_readers([reader], candidates, terms, settings, seed_bags)[0]
        expected = sorted(range(60), key=lambda i: (-alone[i], i))[:10]
        assert positions[n].tolist() == expected, n
        np.testing.assert_allclose(scores[n], alone[expected], rtol=1e-5, atol=1e-5)
