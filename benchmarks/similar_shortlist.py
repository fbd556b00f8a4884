"""Similar papers' shortlist (``similar_graph_min``): how many of the exact 100 nearest papers
the HNSW shortlist finds, and how often the final 10 similar papers are the exact path's.

    python benchmarks/similar_shortlist.py CORPUS [--cache .recommend-cache] [--minilm-db URL]
        [--database-url sqlite:////tmp/search-200k.db] [--papers 500] [--similar 300]

Two sets of vectors, each measured the same way:

- ``minilm``: real all-MiniLM-L6-v2 vectors of the cs.CL slice of CORPUS, the papers
  recommend_quality.py embeds (pool and libraries; read from its cache in ``--cache``,
  ``_recdata.cached_vectors``, embedded only when missing there), stored with their papers
  (records from CORPUS) and term bags in a SQLite file of their own (``--minilm-db``, kept).
- ``synthetic``: ``--database-url``, benchmarks/search.py's database (200k papers, synthetic
  clustered vectors), when given.

The index is built exact, then its shortlist graph (timed). For ``--papers`` random papers,
their own vectors as queries: the exact 100 nearest (the paper itself left out) against the
shortlist's at several widths (candidates taken from the graph, as a multiple of the 101
asked) and efSearch values: recall@100, and the mean time of one call (the exact scan's
beside it). Then ``--similar`` papers' similar papers (limit 10) with the shortlist and with
the exact scan: the share of identical lists, and the mean share of the ten in common.
Prints the figures; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _recdata import author_cases, cached_vectors, load_slice
from paperroute import Config, open_hub
from paperroute.ingest import ingest_jsonl
from paperroute.search._graph import set_ef_search
from paperroute.search._index import SHORTLIST_EF

WIDTHS = (1.0, 1.5, 2.0, 3.0)
EFS = (128, 256, 512)
K = 101  # what similar papers ask for (100 neighbours + the paper itself)


def _minilm_database(corpus: Path, cache: Path, url: str) -> None:
    """The cs.CL papers recommend_quality.py embeds, with their cached vectors and bags."""
    from paperroute.search._vectors import Pending, store_batch
    from paperroute.search.embedder import MODEL_NAME
    from paperroute.store.schema_vectors import embedding_models

    docs = load_slice(corpus, "cs.CL", cache)
    split = dt.date(2026, 6, 1)  # recommend_quality.py's default
    pool = [n for n, d in enumerate(docs) if d.day >= split]
    cases = author_cases(docs, pool, split)
    need = sorted(set(pool) | {n for c in cases for n in c.library})
    with tempfile.TemporaryDirectory() as folder, open_hub(Config(database_url=url)) as hub:
        with hub._db.engine.connect() as connection:
            if connection.exec_driver_sql("SELECT count(*) FROM embeddings").scalar():
                return
        vectors = cached_vectors([docs[n].text for n in need], cache)
        wanted = {docs[n].id for n in need}
        records = Path(folder) / "slice.jsonl"
        with gzip.open(corpus, "rb") as lines, records.open("wb") as out:
            for line in lines:
                if json.loads(line)["id"] in wanted:
                    out.write(line)
        ingest_jsonl(hub, [records])
        with hub._db.engine.begin() as connection:
            pks = dict(connection.exec_driver_sql("SELECT id, pk FROM papers").all())
            connection.execute(
                embedding_models.insert().values(
                    model=MODEL_NAME,
                    version="recommend-cache",
                    dimension=384,
                    max_length=128,
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
        rows = [(pks[docs[n].id], row) for row, n in enumerate(need) if docs[n].id in pks]
        for start in range(0, len(rows), 2000):
            part = rows[start : start + 2000]
            batch = [Pending(int(pk), "", "cache") for pk, _ in part]
            store_batch(hub._db.engine, MODEL_NAME, batch, vectors[[r for _, r in part]])
        hub.search.store_term_bags()
        print(f"minilm database: {len(rows):,} papers with cached vectors", flush=True)


def _measure(
    url: str, papers: int, similar: int, seed: int, index_dir: str | None = None
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as folder:
        where = index_dir or folder  # (a saved index and shortlist there are loaded)
        config = Config(database_url=url, vector_index_dir=where, similar_graph_min=1)
        with open_hub(config) as hub:
            index = hub.search.index
            start = time.perf_counter()
            index.refresh(force=True, shortlist=False)
            exact_s = time.perf_counter() - start
            start = time.perf_counter()
            index.build_shortlist()
            build_s = time.perf_counter() - start
            graph = index._shortlist
            out: dict[str, Any] = {
                "vectors": len(index),
                "exact_build_s": round(exact_s, 1),
                "shortlist_build_s": round(build_s, 1),
            }
            print(f"{len(index):,} vectors: exact index {exact_s:.1f} s, shortlist {build_s:.1f} s")
            chosen = index._ids[rng.choice(len(index), min(papers, len(index)), replace=False)]
            # Per (efSearch, width): each paper's recall@100, whether the graph missed the
            # paper itself (the product then falls back to the exact scan), the call's time.
            found: dict[tuple[int, float], list[tuple[float, bool, float]]] = {}
            exact_ms: list[float] = []
            for pk in chosen.tolist():
                vector = index.vector(pk)
                assert vector is not None
                start = time.perf_counter()
                exact = index.search(vector, K)
                exact_ms.append((time.perf_counter() - start) * 1000)
                truth = set([p for p, _ in exact if p != pk][:100])
                for ef in EFS:
                    set_ef_search(graph, ef)
                    for width in WIDTHS:
                        start = time.perf_counter()
                        near = index.neighbours(vector, K, width=int(width * K))
                        ms = (time.perf_counter() - start) * 1000
                        got = [p for p, _ in near if p != pk][:100]
                        lost = pk not in {p for p, _ in near}
                        found.setdefault((ef, width), []).append(
                            (len(truth & set(got)) / 100, lost, ms)
                        )
            set_ef_search(graph, SHORTLIST_EF)
            exact_mean = statistics.mean(exact_ms)
            out["exact_scan_ms"] = round(exact_mean, 2)
            print(f"exact scan: {out['exact_scan_ms']} ms a call (mean)")
            for (ef, width), rows in found.items():
                recalls = [r for r, _, _ in rows]
                lost = [r for r, gone, _ in rows if gone]
                # With the fallback: a lost paper gets the exact scan (recall 1, its time).
                kept = [1.0 if gone else r for r, gone, _ in rows]
                ms = statistics.mean(t for _, _, t in rows)
                name = f"ef{ef}_x{width:g}"
                out[f"recall100_{name}"] = round(statistics.mean(recalls), 4)
                out[f"recall100_fallback_{name}"] = round(statistics.mean(kept), 4)
                out[f"under90_fallback_{name}"] = round(sum(r < 0.9 for r in kept) / len(kept), 4)
                out[f"lost_share_{name}"] = round(len(lost) / len(rows), 4)
                out[f"shortlist_ms_{name}"] = round(ms, 2)
                print(
                    f"efSearch {ef:>3}, width x{width:g}: recall@100 "
                    f"{statistics.mean(recalls):.4f}; the paper itself missed in "
                    f"{len(lost)}/{len(rows)} (their recall {statistics.mean(lost or [1]):.2f}); "
                    f"with the exact fallback {statistics.mean(kept):.4f} (under 0.9: "
                    f"{sum(r < 0.9 for r in kept)}, min {min(kept):.2f}), "
                    f"{ms:.2f} ms + {len(lost) / len(rows) * exact_mean:.2f} ms of fallback"
                )
            out.update(_similar_lists(hub, chosen[:similar].tolist()))
    return out


def _similar_lists(hub: Any, pks: list[int]) -> dict[str, float]:
    """Similar papers (limit 10) with the shortlist and with the exact scan."""
    index = hub.search.index
    with hub._db.engine.connect() as connection:
        ids = [
            connection.exec_driver_sql(f"SELECT id FROM papers WHERE pk = {pk}").scalar()
            for pk in pks
        ]
    same = 0
    common: list[float] = []
    hub.search.similar(ids[0], limit=10)  # warm up (the frequency scan)
    # Each paper both ways, one right after the other: the same load for both.
    wall: dict[str, list[float]] = {"shortlist": [], "exact": []}
    cpu: dict[str, list[float]] = {"shortlist": [], "exact": []}

    def timed(path: str, ref: str) -> list[str]:
        started, started_cpu = time.perf_counter(), time.process_time()
        hits = hub.search.similar(ref, limit=10).hits
        wall[path].append((time.perf_counter() - started) * 1000)
        cpu[path].append((time.process_time() - started_cpu) * 1000)
        return [hit.id for hit in hits]

    def without_shortlist(ref: str) -> list[str]:
        shortlist, index._shortlist = index._shortlist, None
        try:
            return timed("exact", ref)
        finally:
            index._shortlist = shortlist

    for n, ref in enumerate(ids):
        # Whichever runs first pays the paper's cold reads (its words' frequencies are
        # looked up once, pages read): first in turn.
        if n % 2:
            exact = without_shortlist(ref)
            graph = timed("shortlist", ref)  # (the paper's own check on, as served)
        else:
            graph = timed("shortlist", ref)
            exact = without_shortlist(ref)
        same += graph == exact
        common.append(len(set(graph) & set(exact)) / max(1, len(exact)))
    identical = same / max(1, len(ids))
    overlap = statistics.mean(common) if common else 0.0
    print(
        f"similar papers of {len(ids)}: identical top 10 {identical:.3f}, "
        f"in common {overlap:.4f} (efSearch {SHORTLIST_EF}, the product's width)"
    )
    out = {
        "similar_identical_top10": round(identical, 4),
        "similar_top10_common": round(overlap, 4),
    }
    for path in ("shortlist", "exact"):
        times = sorted(wall[path])
        p50, p99 = statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]
        mean_cpu = statistics.mean(cpu[path])
        print(
            f"  similar via the {path}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
            f"{mean_cpu:.1f} ms of process CPU a call (mean)"
        )
        out[f"similar_{path}_p50_ms"] = round(p50, 1)
        out[f"similar_{path}_p99_ms"] = round(p99, 1)
        out[f"similar_{path}_cpu_ms"] = round(mean_cpu, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--cache", type=Path, default=Path(".recommend-cache"))
    parser.add_argument("--minilm-db", default="sqlite:///.similar-shortlist-minilm.db")
    parser.add_argument("--database-url", help="benchmarks/search.py's database (synthetic)")
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--similar", type=int, default=300)
    parser.add_argument("--skip-minilm", action="store_true")
    parser.add_argument(
        "--index-dir", help="the synthetic index's folder (loaded when saved there, not built)"
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    if not args.skip_minilm:
        _minilm_database(args.corpus, args.cache, args.minilm_db)
        print("minilm (cs.CL, real vectors):")
        figures["minilm"] = _measure(args.minilm_db, args.papers, args.similar, 1)
    if args.database_url:
        print("synthetic (benchmarks/search.py's database):")
        figures["synthetic"] = _measure(
            args.database_url, args.papers, args.similar, 2, args.index_dir
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
