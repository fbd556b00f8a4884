"""The ranker's settings (``RankSettings``), apart so that the ranking's modules share them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RankSettings:
    """The ranker's knobs; the defaults were chosen on the tuning half of
    ``benchmarks/recommend_quality.py`` (see docs/recommend.md)."""

    recency_power: float = 0.25
    max_interests: int = 6
    seeds_per_interest: int = 5
    kmeans_rounds: int = 4
    max_cluster_seeds: int = 32
    mixture_weight: float = 0.5
    term_weight: float = 3.0
    query_terms: int = 3000
    term_seeds: int = 64
    query_idf: float = 3.5
    bm25_k1: float = 1.2
    bm25_b: float = 0.9
    negative_weight: float = 0.5
    follow_bonus: float = 0.1
    mmr_lambda: float = 1.0
    # The nearest-seed side (``_seed_side.py``): its weight relative to the rest (0: off),
    # the power each seed's tf-idf closeness is raised to, how many candidates a seed keeps,
    # and the share of the candidates past which a term is left out of it.
    seed_weight: float = 0.3
    seed_power: float = 2.0
    seed_near: int = 100
    seed_max_df: float = 0.2
