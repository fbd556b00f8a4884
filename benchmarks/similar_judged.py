"""Similar papers on graded judgments of meaning: paperroute's ranking against plain BM25,
MiniLM cosine alone, arxiv-sanity-lite's tf-idf and the previous ranking.

    python benchmarks/similar_judged.py [--judgments ../shared/data/judgments/similar-demo.jsonl]
        [--database-url sqlite:///demo.db] [--save FILE] [--previous FILE]
        [--similar-graph-min N]

The judgments (``../shared/data/judgments/README.md``): 1,346 (query paper, candidate) pairs
of the bundled demo data, graded 0-3 for meaning, 60 query papers split in a ``tune`` half
(settings are chosen on it: the weight grid below) and a ``report`` half (the figures to
quote). The demo data is loaded into a fresh SQLite database as ``paperroute demo load``
does (precomputed MiniLM vectors, term bags), or ``--database-url`` names one loaded already.

Metrics over each ranking's top 10, per query, then averaged: nDCG@10 (gain 2^grade - 1,
the ideal from every judged candidate of the query), AP@10 (relevant: grade >= 2; divided by
min(relevant judged, 10); queries without a relevant candidate left out of MAP) and the
judged share (how many of the top 10 carry a judgment: unjudged ones count as grade 0, so
the figures are lower bounds for a ranking that surfaces papers outside the pools). Each
system against paperroute's: the mean per-query difference with its 95% paired bootstrap
interval. Systems:

- ``paperroute``: ``hub.search.similar`` (search/_similar.py: z(MiniLM cosine) x 0.65 +
  z(tf-idf cosine, idf over the candidate pool) x 0.35 over its MiniLM and keyword
  neighbours);
- ``tfidf01``: the ranking it replaced, re-done on the same candidates (tf-idf cosine +
  0.1 x MiniLM cosine; the replaced code itself scored a little lower: run it with
  ``--save`` on its commit and pass the file here as ``--previous``: ``saved``);
- ``zfusion07``: z-scores of the keyword side's scores and MiniLM cosines, MiniLM 0.7;
- ``minilm``: MiniLM cosine alone (the demo vectors, exact search);
- ``sanity``: arxiv-sanity-lite's tf-idf (benchmarks/search_quality.SanityTfidf);
- ``bm25``: Okapi BM25 over title + abstract, the paper's own text as the query.

The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, text

from _common import peak_rss_mb
from paperroute import Config, open_hub
from paperroute.ingest import ingest_demo
from paperroute.search._similar import SIMILAR_MEANING_WEIGHT, Pool, similar_pool, zscores
from paperroute.search._terms import Bag, make_bag, term_counts
from paperroute.store.schema import papers
from search_quality import Doc, PlainBM25, SanityTfidf, paired_interval

K = 10
JUDGMENTS = Path(__file__).resolve().parents[1] / "../shared/data/judgments/similar-demo.jsonl"


@dataclass
class Judged:
    grades: dict[str, dict[str, int]]  # query -> candidate -> grade
    split: dict[str, str]  # query -> tune / report


def load_judgments(path: Path) -> Judged:
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    split: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            grades[row["query"]][row["candidate"]] = int(row["grade"])
            split[row["query"]] = row["split"]
    return Judged(dict(grades), split)


def ndcg(ranked: Sequence[str], grades: dict[str, int]) -> float:
    gain = sum((2 ** grades.get(c, 0) - 1) / math.log2(i + 2) for i, c in enumerate(ranked[:K]))
    best = sorted(grades.values(), reverse=True)[:K]
    ideal = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(best))
    return gain / ideal if ideal else 0.0


def average_precision(ranked: Sequence[str], grades: dict[str, int]) -> float | None:
    relevant = sum(1 for g in grades.values() if g >= 2)
    if not relevant:
        return None
    hits, total = 0, 0.0
    for i, candidate in enumerate(ranked[:K]):
        if grades.get(candidate, 0) >= 2:
            hits += 1
            total += hits / (i + 1)
    return total / min(relevant, K)


def judged_share(ranked: Sequence[str], grades: dict[str, int]) -> float:
    return sum(1 for c in ranked[:K] if c in grades) / K


def evaluate(
    rankings: dict[str, list[str]], queries: Sequence[str], judged: Judged
) -> dict[str, list[float]]:
    per_query: dict[str, list[float]] = {"ndcg10": [], "ap10": [], "judged10": []}
    for query in queries:
        ranked, grades = rankings[query], judged.grades[query]
        per_query["ndcg10"].append(ndcg(ranked, grades))
        ap = average_precision(ranked, grades)
        per_query["ap10"].append(float("nan") if ap is None else ap)
        per_query["judged10"].append(judged_share(ranked, grades))
    return per_query


def summary(per_query: dict[str, list[float]]) -> dict[str, float]:
    return {
        "ndcg10": round(float(np.mean(per_query["ndcg10"])), 4),
        "map10": round(float(np.nanmean(per_query["ap10"])), 4),
        "judged10": round(float(np.mean(per_query["judged10"])), 4),
    }


def pool_tfidf_cosines(source: Bag, bags: Sequence[Bag]) -> Any:
    """The tf-idf cosine (sublinear tf) of each bag with ``source``, with a query-specific
    idf: document frequencies counted over ``bags`` themselves (the candidates of one
    paper's similar papers), idf = ln((1 + n) / (1 + df)) + 1. The words every candidate
    shares with the source weigh little; the ones that set a few apart weigh most."""
    out = np.zeros(len(bags), dtype=np.float64)
    src_ids, src_counts = source
    if not bags or not len(src_ids):
        return out
    sizes = [len(bag[0]) for bag in bags]
    if not sum(sizes):
        return out
    ids = np.concatenate([bag[0] for bag in bags])
    sub = 1.0 + np.log(np.concatenate([bag[1] for bag in bags]).astype(np.float64))
    owner = np.repeat(np.arange(len(bags)), sizes)
    terms, df = np.unique(ids, return_counts=True)
    smooth = float(len(bags) + 1)
    weight = sub * (np.log(smooth / (1.0 + df[np.searchsorted(terms, ids)])) + 1.0)
    squares = np.bincount(owner, weights=weight * weight, minlength=len(bags))
    at = np.minimum(np.searchsorted(terms, src_ids), len(terms) - 1)
    src_df = np.where(terms[at] == src_ids, df[at], 0)
    src_w = (1.0 + np.log(src_counts.astype(np.float64))) * (np.log(smooth / (1.0 + src_df)) + 1)
    norm = math.sqrt(float(src_w @ src_w)) or 1.0
    where = np.minimum(np.searchsorted(src_ids, ids), len(src_ids) - 1)
    hit = src_ids[where] == ids
    dot = np.bincount(owner[hit], weights=weight[hit] * src_w[where[hit]], minlength=len(bags))
    positive = squares > 0
    out[positive] = dot[positive] / (norm * np.sqrt(squares[positive]))
    return out


def fused(pool: Pool, meaning: float, words: Any, cosine: Any = None) -> list[int]:
    cosine = pool.meaning if cosine is None else cosine
    scores = meaning * zscores(cosine) + (1 - meaning) * zscores(words)
    order = np.lexsort((pool.pks, -cosine, -scores))
    return [int(pool.pks[i]) for i in order[:K]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judgments", type=Path, default=JUDGMENTS)
    parser.add_argument(
        "--similar-graph-min",
        type=int,
        help="similar_graph_min (1: similar papers' vector side from the shortlist graph)",
    )
    parser.add_argument("--database-url", help="a database `paperroute demo load` filled")
    parser.add_argument(
        "--save", type=Path, help="write paperroute's rankings here ({query: [ids]}, JSON)"
    )
    parser.add_argument(
        "--previous",
        type=Path,
        help="rankings another version saved with --save: compared as `saved`",
    )
    args = parser.parse_args()
    judged = load_judgments(args.judgments)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="paperroute-judged-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'demo.db'}"
        config = Config(database_url=url, vector_index_dir=str(Path(folder) / "index"))
        if args.similar_graph_min is not None:  # the shortlist path on the demo's size
            config = dataclasses.replace(config, similar_graph_min=args.similar_graph_min)
        with open_hub(config) as hub:
            with hub._db.engine.connect() as connection:
                empty = not connection.execute(text("SELECT count(*) FROM papers")).scalar()
            if empty:
                ingest_demo(hub, None)
                hub.search.import_demo_vectors()
                hub.search.store_term_bags()
            hub.search.index.refresh(force=True)
            print(f"demo data ready in {time.perf_counter() - started:.0f} s")
            run(hub, judged, args.save, args.previous)


def run(hub: Any, judged: Judged, save: Path | None, previous: Path | None) -> None:
    with hub._db.engine.connect() as connection:
        rows = connection.execute(
            select(
                papers.c.pk, papers.c.id, papers.c.title, papers.c.abstract, papers.c.authors_text
            )
        ).all()
    pk_of = {row.id: int(row.pk) for row in rows}
    id_of = {int(row.pk): row.id for row in rows}
    docs = [
        Doc(row.id, row.title or "", row.abstract or "", (row.authors_text or "").split(", "))
        for row in rows
    ]
    position = {doc.id: i for i, doc in enumerate(docs)}
    queries = sorted(q for q in judged.grades if q in pk_of)
    missing = len(judged.grades) - len(queries)
    print(f"{len(queries)} judged query papers in the database ({missing} missing)")
    bm25, sanity = PlainBM25(docs), SanityTfidf(docs)
    index = hub.search.index
    frequencies = hub.search.frequencies
    # The term bags as a server holds them in memory (when the code does: search/_bag_store.py).
    held: dict[str, Any] = {}
    store = getattr(hub.search, "bags", None)
    if store is not None:
        store.refresh()
        held["held"] = store.current()
        print(f"term bags held: {held['held'] is not None}")

    pools: dict[str, Pool] = {}
    collection: dict[str, Any] = {}
    pooled: dict[str, Any] = {}
    prf: dict[str, Any] = {}
    rankings: dict[str, dict[str, list[str]]] = defaultdict(dict)
    with hub._db.engine.connect() as connection:
        for query in queries:
            pk, doc = pk_of[query], docs[position[query]]
            vector = index.vector(pk)
            pool = similar_pool(
                connection, index, pk, vector, doc.title, doc.abstract, frequencies, **held
            )
            pools[query] = pool
            # The words' cosine with an idf counted over the pool (measured, not kept).
            source = make_bag(term_counts(doc.title, doc.abstract))
            pooled[query] = pool_tfidf_cosines(source, pool.bags)
            # Pseudo-relevance feedback on the vector side (measured, not kept): the
            # paper's vector plus its 3 nearest neighbours', as the query vector.
            assert vector is not None
            top = [int(p) for p in pool.pks[np.argsort(-pool.meaning)[:3]]]
            feedback = vector + sum(index.vector(p) for p in top) / 3
            feedback /= np.linalg.norm(feedback)
            got = index.scores(feedback, [int(p) for p in pool.pks])
            prf[query] = np.array([got.get(int(p), 0.0) for p in pool.pks])
            collection[query] = pool.words
            old = collection[query] + 0.1 * pool.meaning
            order = np.lexsort((pool.pks, -old))
            rankings["tfidf01"][query] = [id_of[int(pool.pks[i])] for i in order[:K]]
            keyword = np.where(
                pool.keyword > 0, pool.keyword, pool.keyword[pool.keyword > 0].min(initial=0.0)
            )
            rankings["zfusion07"][query] = [id_of[p] for p in fused(pool, 0.7, keyword)]
            rankings["paperroute"][query] = [h.id for h in hub.search.similar(query, limit=K).hits]
            near = index.search(vector, K + 1)
            rankings["minilm"][query] = [id_of[p] for p, _ in near if p != pk][:K]
            rankings["sanity"][query] = [docs[i].id for i in sanity.similar(position[query], K)]
            text_query = f"{doc.title} {doc.abstract}"
            rankings["bm25"][query] = [
                docs[i].id for i in bm25.search(text_query, K, exclude=position[query])
            ]

    if save is not None:
        save.write_text(json.dumps(rankings["paperroute"], indent=0), encoding="utf-8")
    systems = ["paperroute", "tfidf01", "zfusion07", "minilm", "sanity", "bm25"]
    if previous is not None:
        rankings["saved"] = json.loads(previous.read_text(encoding="utf-8"))
        systems.insert(1, "saved")
    tune = [q for q in queries if judged.split[q] == "tune"]
    report = [q for q in queries if judged.split[q] == "report"]
    figures: dict[str, float] = {}

    # Settings, on the tune half only: the meaning weight and which idf the words use.
    print("\ntune half: nDCG@10 / MAP@10 by the weight of meaning (z-scored MiniLM cosine)")
    grid = [round(w, 2) for w in np.arange(0.0, 1.0001, 0.05)]
    best: tuple[float, str, float] = (-1.0, "", 0.0)
    variants: dict[str, Callable[[str, float], list[int]]] = {
        "paper_idf": lambda q, w: fused(pools[q], w, collection[q]),
        "pool_idf": lambda q, w: fused(pools[q], w, pooled[q]),
        "paper_idf_prf": lambda q, w: fused(pools[q], w, collection[q], prf[q]),
    }
    for idf_name, variant in variants.items():
        cells = []
        for weight in grid:
            ranked = {q: [id_of[p] for p in variant(q, weight)] for q in tune}
            result = summary(evaluate(ranked, tune, judged))
            cells.append(f"{weight:.2f}: {result['ndcg10']:.3f}/{result['map10']:.3f}")
            figures[f"tune_{idf_name}_w{weight:.2f}_ndcg10"] = result["ndcg10"]
            if result["ndcg10"] > best[0]:
                best = (result["ndcg10"], idf_name, weight)
        print(f"  {idf_name}: " + ", ".join(cells))
    print(
        f"  best on tune: {best[1]}, weight {best[2]} (nDCG@10 {best[0]:.4f}); "
        f"in use: paper_idf, weight {SIMILAR_MEANING_WEIGHT}"
    )

    for half, names in (("tune", tune), ("report", report)):
        print(f"\n{half} half ({len(names)} queries):")
        scored = {s: evaluate(rankings[s], names, judged) for s in systems}
        for system in systems:
            result = summary(scored[system])
            line = (
                f"  {system:>10}: nDCG@10 {result['ndcg10']:.3f}, MAP@10 {result['map10']:.3f}, "
                f"judged {result['judged10']:.2f}"
            )
            for metric, value in result.items():
                figures[f"{half}_{system}_{metric}"] = value
            if system != "paperroute":
                ours = scored["paperroute"]["ndcg10"]
                low, high = paired_interval(ours, scored[system]["ndcg10"])
                margin = float(np.mean(ours) - np.mean(scored[system]["ndcg10"]))
                line += f"; paperroute minus it: {margin:+.3f} [{low:+.3f}, {high:+.3f}]"
                figures[f"{half}_margin_{system}_ndcg10"] = round(margin, 4)
                figures[f"{half}_margin_{system}_ndcg10_low"] = low
                figures[f"{half}_margin_{system}_ndcg10_high"] = high
                a = np.asarray(scored["paperroute"]["ap10"])
                b = np.asarray(scored[system]["ap10"])
                keep = ~np.isnan(a) & ~np.isnan(b)
                low, high = paired_interval(a[keep].tolist(), b[keep].tolist())
                margin = float(np.mean(a[keep] - b[keep]))
                line += f"; MAP {margin:+.3f} [{low:+.3f}, {high:+.3f}]"
                figures[f"{half}_margin_{system}_map10"] = round(margin, 4)
            print(line)
    figures["peak_rss_mb"] = round(peak_rss_mb())
    print(f"peak memory: {figures['peak_rss_mb']} MiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
