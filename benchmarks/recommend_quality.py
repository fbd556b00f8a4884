"""Recommendation quality: does paperroute find an author's later papers from their earlier ones?

    python benchmarks/recommend_quality.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz \
        [--category cs.CL[,cs.LG...]] [--split 2026-06-01] [--cache DIR] [--half report|tune|all] \
        [--tune] [--set name=value ...]

One category's slice of the corpus (cs.CL: 30,141 papers; embedding all 200k on two busy
cores would take hours). For every author with at least 5 papers before ``--split`` and 2
in the pool (every slice paper listed on or after it), the library is their newest 20
earlier papers (one per title) and the targets are their pool papers; an author whose
targets are all another taken author's is left out (co-authored duplicates). Each ranker
ranks the whole pool for each library; recall@50 and nDCG@50 (binary) per author, means,
and paired-bootstrap 95% intervals of paperroute minus each baseline (authors resampled).

Rankers: **paperroute** (``recommend.ranking``: interest vectors, BM25 term profile, MMR,
the settings of ``RankSettings`` unless ``--set`` overrides them); **svm**, arxiv-sanity-lite's
per-user classifier (its TfidfVectorizer settings fitted on the slice, LinearSVC C=0.01,
balanced classes, the library positive and every other slice paper negative, as its
``svm_rank`` does); **zotero**, zotero-arxiv-daily's formula (MiniLM cosine to each library
paper weighted by 1 / (1 + log10(rank + 1)), newest first); **centroid** (cosine to the mean
library vector); **bm25** (the library's words and word pairs as one BM25 query, each weighed
by how many library papers hold it).

Authors fall in two halves by a hash of the name: ``--tune`` grids paperroute's settings on
the "tune" half and prints each; the figures to quote are on the "report" half. MiniLM
vectors (the product's embedder, 128 tokens) are cached under ``--cache``. The last line is
one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from _common import parse_sets, peak_rss_mb
from _recdata import Case, Doc, author_cases, cached_vectors, load_slice
from paperroute.recommend.ranking import (
    RankSettings,
    ReaderSeeds,
    mmr,
    model_term_scores,
    reader_models,
    recency_weights,
    score_readers,
    seed_terms,
    term_index,
)
from paperroute.recommend.term_frequencies import TermFrequencies
from paperroute.search._terms import Bag, make_bag, term_counts

K = 50
Ranker = Callable[[Sequence[Case]], list[list[int]]]


def recall_at(ranked: Sequence[int], targets: frozenset[int], k: int = K) -> float:
    return len(set(ranked[:k]) & targets) / len(targets)


def ndcg_at(ranked: Sequence[int], targets: frozenset[int], k: int = K) -> float:
    gain = sum(1.0 / math.log2(n + 2) for n, doc in enumerate(ranked[:k]) if doc in targets)
    ideal = sum(1.0 / math.log2(n + 2) for n in range(min(len(targets), k)))
    return gain / ideal


def paired_interval(
    ours: Sequence[float], theirs: Sequence[float], rounds: int = 2000
) -> list[float]:
    diff = np.asarray(ours, dtype=np.float64) - np.asarray(theirs, dtype=np.float64)
    picks = np.random.default_rng(7).integers(0, len(diff), size=(rounds, len(diff)))
    low, high = np.percentile(diff[picks].mean(axis=1), [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


class Bench:
    """The slice, the pool, the vectors and term bags every ranker reads."""

    def __init__(self, docs: list[Doc], pool: list[int], cases: list[Case], cache: Path) -> None:
        self.docs, self.pool, self.cases, self.cache = docs, pool, cases, cache
        need = sorted(set(pool) | {n for c in cases for n in c.library})
        self.row = {n: i for i, n in enumerate(need)}
        print(f"vectors of {len(need):,} papers (pool + libraries)", flush=True)
        self.vectors = cached_vectors([docs[n].text for n in need], cache)
        self.bags: dict[int, Bag] = {
            n: make_bag(term_counts(docs[n].title, docs[n].abstract)) for n in need
        }
        self.pool_vectors = self.vectors[[self.row[n] for n in pool]]
        self.pool_bags = [self.bags[n] for n in pool]
        # The store's term counts (the idf the product ranks with): the whole slice's.
        self.frequencies = TermFrequencies.count(
            self.bags[n][0] if n in self.bags else make_bag(term_counts(d.title, d.abstract))[0]
            for n, d in enumerate(docs)
        )

    def library_vectors(self, case: Case) -> np.ndarray:
        return self.vectors[[self.row[n] for n in case.library]]

    # -- rankers: each returns, per case, pool positions best first (the top K) -------------

    def paperroute(self, settings: RankSettings) -> Ranker:
        terms = term_index(self.pool_bags, settings, frequencies=self.frequencies)

        def rank(cases: Sequence[Case]) -> list[list[int]]:
            out: list[list[int]] = []
            for start in range(0, len(cases), 256):
                chunk = cases[start : start + 256]
                readers = [
                    ReaderSeeds(
                        self.library_vectors(c),
                        recency_weights(len(c.library), settings.recency_power),
                        c.library,
                    )
                    for c in chunk
                ]
                scores = score_readers(readers, self.pool_vectors, terms, settings, self.bags)
                for row in scores:
                    out.append(mmr(row, self.pool_vectors, K, settings).tolist())
            return out

        return rank

    def zotero(self, cases: Sequence[Case]) -> list[list[int]]:
        out = []
        for case in cases:
            sims = self.pool_vectors @ self.library_vectors(case).T
            score = sims @ recency_weights(len(case.library))
            out.append(np.argsort(-score, kind="stable")[:K].tolist())
        return out

    def centroid(self, cases: Sequence[Case]) -> list[list[int]]:
        out = []
        for case in cases:
            centre = self.library_vectors(case).mean(axis=0)
            score = self.pool_vectors @ (centre / np.linalg.norm(centre))
            out.append(np.argsort(-score, kind="stable")[:K].tolist())
        return out

    def bm25(self, cases: Sequence[Case]) -> list[list[int]]:
        # Plain BM25: every library term, weighed by how many library papers hold it.
        settings = replace(
            RankSettings(),
            query_terms=1_000_000,
            term_seeds=1_000,
            query_idf=0.0,
            bm25_k1=1.2,
            bm25_b=0.75,
        )
        terms = term_index(self.pool_bags, settings, frequencies=self.frequencies)
        out = []
        for case in cases:
            readers = [
                ReaderSeeds(
                    self.library_vectors(case), np.ones(len(case.library), np.float32), case.library
                )
            ]
            models = reader_models(readers, settings)
            seeds = seed_terms(models, self.bags, terms)
            score = model_term_scores(models, seeds, terms, settings)[0]
            out.append(np.argsort(-score, kind="stable")[:K].tolist())
        return out

    def svm(self, cases: Sequence[Case]) -> list[list[int]]:
        """The SVM's rankings, kept in the cache folder (minutes per hundred authors)."""
        key = hashlib.blake2b(
            json.dumps([[c.author, list(c.library)] for c in cases]).encode(), digest_size=12
        ).hexdigest()
        path = self.cache / f"svm-{len(self.docs)}-{key}.json"
        if path.is_file():
            ranked: list[list[int]] = json.loads(path.read_text())
            return ranked
        ranked = self._svm(cases)
        path.write_text(json.dumps(ranked))
        return ranked

    def _svm(self, cases: Sequence[Case]) -> list[list[int]]:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        # arxiv-sanity-lite compute.py's vectoriser, fitted on every paper it holds.
        vectoriser = TfidfVectorizer(
            input="content",
            encoding="utf-8",
            decode_error="replace",
            strip_accents="unicode",
            lowercase=True,
            analyzer="word",
            stop_words="english",
            token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",  # noqa: S106 (a regex)
            ngram_range=(1, 2),
            max_features=20_000,
            norm="l2",
            use_idf=True,
            smooth_idf=True,
            sublinear_tf=True,
            max_df=0.1,
            min_df=5,
        )
        x = vectoriser.fit_transform([f"{d.title}. {d.abstract}" for d in self.docs])
        pool_rows = np.asarray(self.pool)
        out = []
        for case in cases:
            y = np.zeros(len(self.docs), dtype=np.int64)
            y[list(case.library)] = 1
            # serve.py's svm_rank: C=0.01, balanced, every paper scored.
            clf = LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.01)
            clf.fit(x, y)
            score = clf.decision_function(x[pool_rows])
            out.append(np.argsort(-score, kind="stable")[:K].tolist())
        return out


def evaluate(ranker: Ranker, cases: Sequence[Case]) -> tuple[list[float], list[float]]:
    ranked = ranker(cases)
    return (
        [recall_at(r, c.targets) for r, c in zip(ranked, cases, strict=True)],
        [ndcg_at(r, c.targets) for r, c in zip(ranked, cases, strict=True)],
    )


GRID: dict[str, list[float]] = {
    "term_weight": [0.3, 0.6, 1.0, 1.5, 2.5],
    "mixture_weight": [0.0, 0.5, 1.0],
    "query_terms": [150, 400],
    "max_interests": [1, 3, 6],
    "mmr_lambda": [0.9, 1.0],
}


def tune(
    bench: Bench, cases: Sequence[Case], base: RankSettings, grid: dict[str, list[float]]
) -> RankSettings:
    """Coordinate search on ``cases``: each setting of GRID in turn, the others held at the
    best so far; the best mean nDCG@50 wins."""
    best = base
    best_ndcg = float(np.mean(evaluate(bench.paperroute(best), cases)[1]))
    print(f"  start: nDCG@50 {best_ndcg:.4f}", flush=True)
    for name, values in grid.items():
        for value in values:
            typed = int(value) if isinstance(getattr(base, name), int) else value
            if getattr(best, name) == typed:
                continue
            settings = replace(best, **{name: typed})  # type: ignore[arg-type]
            recall, ndcg = evaluate(bench.paperroute(settings), cases)
            mean_ndcg = float(np.mean(ndcg))
            print(
                f"  {name}={typed}: nDCG@50 {mean_ndcg:.4f} recall@50 {np.mean(recall):.4f}",
                flush=True,
            )
            if mean_ndcg > best_ndcg:
                best, best_ndcg = settings, mean_ndcg
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--category", default="cs.CL", help="one, or several: cs.CL,cs.LG")
    parser.add_argument("--split", type=dt.date.fromisoformat, default=dt.date(2026, 6, 1))
    parser.add_argument("--cache", type=Path, default=Path(".recommend-cache"))
    parser.add_argument("--half", choices=["report", "tune", "all"], default="report")
    parser.add_argument("--tune", action="store_true", help="grid settings on the tune half")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument(
        "--grid", action="append", default=[], metavar="NAME=V1,V2", help="tune these instead"
    )
    parser.add_argument(
        "--max-authors", type=int, help="the first N authors of each half (most targets first)"
    )
    parser.add_argument("--skip", action="append", default=[], help="a baseline to leave out")
    args = parser.parse_args()

    started = time.perf_counter()
    settings = replace(RankSettings(), **parse_sets(args.set))  # type: ignore[arg-type]
    # Several categories: each author ranked within their category's slice, the authors
    # of all of them pooled for the means and intervals.
    results: dict[str, tuple[list[float], list[float]]] = {}
    papers = pools = authors = 0
    for category in args.category.split(","):
        docs = load_slice(args.corpus, category, args.cache)
        pool = [n for n, d in enumerate(docs) if d.day >= args.split]
        cases = author_cases(docs, pool, args.split)
        print(
            f"{category}: {len(docs):,} papers, pool {len(pool):,} from {args.split}, "
            f"{len(cases):,} authors",
            flush=True,
        )
        bench = Bench(docs, pool, cases, args.cache)
        if args.tune:
            grid = {
                name: [float(v) for v in values.split(",")]
                for name, _, values in (item.partition("=") for item in args.grid)
            } or GRID
            tuning = [c for c in cases if c.half == "tune"][: args.max_authors]
            settings = tune(bench, tuning, settings, grid)
            print(f"best on the tune half: {settings}", flush=True)
        chosen = [c for c in cases if args.half in ("all", c.half)][: args.max_authors]
        papers, pools, authors = papers + len(docs), pools + len(pool), authors + len(chosen)
        rankers: dict[str, Ranker] = {
            "paperroute": bench.paperroute(settings),
            "bm25": bench.bm25,
            "zotero": bench.zotero,
            "centroid": bench.centroid,
            "svm": bench.svm,
        }
        for name, ranker in rankers.items():
            if name in args.skip:
                continue
            clock = time.perf_counter()
            recall, ndcg = evaluate(ranker, chosen)
            print(
                f"{category} {name:>10}: nDCG@50 {np.mean(ndcg):.4f}  "
                f"recall@50 {np.mean(recall):.4f}  ({time.perf_counter() - clock:.0f}s)",
                flush=True,
            )
            both = results.setdefault(name, ([], []))
            both[0].extend(recall)
            both[1].extend(ndcg)
    for name, (recall, ndcg) in results.items():
        print(f"{name:>10}: nDCG@50 {np.mean(ndcg):.4f}  recall@50 {np.mean(recall):.4f}")
    ours = results["paperroute"]
    figures: dict[str, object] = {
        "category": args.category,
        "papers": papers,
        "pool": pools,
        "split": str(args.split),
        "half": args.half,
        "authors": authors,
        "settings": {f.name: getattr(settings, f.name) for f in fields(RankSettings)},
    }
    for name, (recall, ndcg) in results.items():
        figures[name] = {
            "ndcg50": round(float(np.mean(ndcg)), 4),
            "recall50": round(float(np.mean(recall)), 4),
        }
        if name != "paperroute":
            figures[name]["ndcg50_diff_ci"] = paired_interval(ours[1], ndcg)  # type: ignore[index]
            figures[name]["recall50_diff_ci"] = paired_interval(ours[0], recall)  # type: ignore[index]
            print(
                f"paperroute - {name}: nDCG@50 {figures[name]['ndcg50_diff_ci']}, "  # type: ignore[index]
                f"recall@50 {figures[name]['recall50_diff_ci']}",  # type: ignore[index]
                flush=True,
            )
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(f"peak memory {figures['peak_rss_mb']} MiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
