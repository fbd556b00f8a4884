"""Search latency on the 200k corpus: keyword, semantic, hybrid and similar papers; embedding
throughput; vector index build time; peak memory.

    python benchmarks/search.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz \
        [--hf ../shared/data/hf-daily/hf-daily-papers-*.tar.gz] [--database-url URL]
        [--modes keyword,semantic,hybrid,similar] [--skip-embed-rate]
        [--scale N] [--prepare-only]

Loads the corpus into a fresh SQLite database (or uses --database-url as it is, loading
the corpus only when it has no papers: a SQLite file named there is kept for the next run),
stores one unit-length *clustered* synthetic vector per paper (embedding 200k real
abstracts takes over an hour here; uniform random vectors would defeat any ANN index),
builds the vector index from the stored vectors, then runs a realistic query set one query
at a time: Hugging Face ai_keywords phrases, title fragments, author names and one-word
common terms. Queries are embedded by the real all-MiniLM-L6-v2 each time (no query
cache). Embedding throughput is measured on real abstracts cut at 128 tokens. Prints
p50/p99 per kind and mode (``--modes`` picks which); the last
line is one JSON object of the figures.

Memory: ``build_peak_rss_mb`` is this process's peak (loading, storing vectors, building
the index). The queries run in a fresh process (spawned) that opens the hub, loads the
saved index and the embedder and runs them, as a server does; its peak resident memory
(VmHWM) is ``server_peak_rss_mb``, the serving memory (the web stack's own modules, tens of
MiB, are not in it). Beyond ``vector_exact_max`` the child then measures the HNSW index's
recall@10 against exact search over the stored vectors (``--skip-recall`` skips it).
``--index-dir`` keeps the index between runs (a later run loads it instead of building).
``index_build_s`` includes similar papers' shortlist graph (from ``similar_graph_min``
papers), built as ``paperroute embed`` builds it. Where the code holds similar papers' term
bags in memory, the child reads them before timing (``bags_load_s``, ``bags_held_mb``).

``--scale N`` (N above the corpus size) loads the corpus followed by perturbed copies of it
until N papers: each copy has a distinct arXiv id (``27MM.NNNNN`` onwards, past any real one),
its abstract's sentences shuffled and its title with a word dropped and two swapped, so that
posting lists and BM25 statistics grow as with real papers rather than as exact duplicates.
``--prepare-only`` stops once the papers and vectors are stored (build a large --database-url
once, then time it in later runs).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import functools
import gzip
import json
import multiprocessing
import random
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from _common import hf_dump_items, long_abstracts
from paperroute import Config, open_hub
from paperroute.heap import settle_heap
from paperroute.ingest import ingest_jsonl
from paperroute.search.service import Mode

# Papers timed for similar papers (a p99 of 200 would be their second slowest).
SIMILAR_PAPERS = 1000
COMMON = ["model", "learning", "data", "network", "method", "results", "large", "language"]


def _queries(corpus: Path, hf: Path | None, rng: random.Random) -> dict[str, list[str]]:
    titles: list[str] = []
    authors: list[str] = []
    with gzip.open(corpus, "rb") as lines:
        for line in lines:
            record = json.loads(line)
            titles.append(record["title"])
            authors.extend(record["authors"][:1])
    fragments = []
    for title in rng.sample(titles, 100):
        words = title.split()
        start = rng.randrange(max(1, len(words) - 3))
        fragments.append(" ".join(words[start : start + 3]))
    phrases: list[str] = []
    if hf is not None:
        for item in hf_dump_items(hf):
            if isinstance(item, str):
                item = ast.literal_eval(item)
            phrases.extend(item.get("paper", {}).get("ai_keywords") or [])
    return {
        "phrase": [f'"{p}"' for p in rng.sample(phrases, min(100, len(phrases)))],
        "title": fragments,
        "author": [f'author:"{a}"' for a in rng.sample(authors, 100)],
        "common": COMMON * 5,
    }


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _scaled_copy(record: dict[str, Any], serial: int, rng: random.Random) -> dict[str, Any]:
    """A perturbed copy of a corpus record under the ``serial``-th synthetic arXiv id."""
    month = serial // 99_999
    paper_id = f"{27 + month // 12:02d}{month % 12 + 1:02d}.{serial % 99_999 + 1:05d}"
    words = str(record["title"]).split()
    if len(words) >= 4:
        del words[rng.randrange(1, len(words))]
    if len(words) >= 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    else:
        words.append(rng.choice(["revisited", "extended", "II", "a survey", "in practice"]))
    sentences = _SENTENCE.split(str(record.get("summary") or ""))
    rng.shuffle(sentences)
    return record | {"id": paper_id, "title": " ".join(words), "summary": " ".join(sentences)}


def _write_scaled(corpus: Path, target: int, out: Path) -> int:
    """The corpus then perturbed copies of it, ``target`` records in all, as plain JSON
    Lines in ``out``; answers the count written."""
    rng = random.Random(11)
    written = serial = 0
    with out.open("w", encoding="utf-8") as sink:
        while written < target:
            copy = written > 0
            with gzip.open(corpus, "rb") as lines:
                for line in lines:
                    if written >= target:
                        break
                    record = json.loads(line)
                    if copy:
                        record = _scaled_copy(record, serial, rng)
                        serial += 1
                    sink.write(json.dumps(record) + "\n")
                    written += 1
            if not written:
                break  # an empty corpus
    return written


def _load(hub: Any, corpus: Path, scale: int | None, folder: Path) -> None:
    start = time.perf_counter()
    if scale is None:
        ingest_jsonl(hub, [corpus])
    else:
        scaled = folder / "scaled.jsonl"
        written = _write_scaled(corpus, scale, scaled)
        print(f"corpus scaled to {written:,} records in {time.perf_counter() - start:.0f} s")
        ingest_jsonl(hub, [scaled])
        scaled.unlink()
    with hub._db.engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM papers").scalar()
    print(f"loaded {count:,} papers in {time.perf_counter() - start:.0f} s")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _store_synthetic_vectors(hub: Any, rng: np.random.Generator) -> None:
    """One unit vector per paper: a cluster centre (papers of a primary category share a
    few) plus noise, float16, as `paperroute embed` would store them."""
    from sqlalchemy import select

    from paperroute.search._vectors import Pending, store_batch
    from paperroute.search.embedder import MODEL_NAME
    from paperroute.store.schema import papers
    from paperroute.store.schema_vectors import embedding_models

    with hub._db.engine.connect() as connection:
        rows = connection.execute(select(papers.c.pk, papers.c.primary_category)).all()
    categories = sorted({row[1] or "" for row in rows})
    centres = rng.standard_normal((len(categories) * 8, 384)).astype(np.float32)
    slot = {c: i * 8 for i, c in enumerate(categories)}
    with hub._db.engine.begin() as connection:
        connection.execute(
            embedding_models.insert().values(
                model=MODEL_NAME,
                version="synthetic",
                dimension=384,
                max_length=128,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
    for start in range(0, len(rows), 20_000):
        chunk = rows[start : start + 20_000]
        which = np.array([slot[r[1] or ""] for r in chunk]) + rng.integers(0, 8, len(chunk))
        vectors = centres[which] + 0.8 * rng.standard_normal((len(chunk), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        batch = [Pending(int(r[0]), "", "synthetic") for r in chunk]
        store_batch(hub._db.engine, MODEL_NAME, batch, vectors)


def _embed_rate(corpus: Path, backend: str, count: int = 256) -> float:
    from paperroute.search.embedder import MODEL_NAME, load_embedder

    texts = long_abstracts(corpus, count)
    embedder = load_embedder(MODEL_NAME, backend=backend)
    embedder.embed(texts[:8])  # warm up
    start = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - start)


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def _time_similar(hub: Any, figures: dict[str, float | int]) -> None:
    with hub._db.engine.connect() as connection:
        ids = [
            r[0]
            for r in connection.exec_driver_sql(
                f"SELECT id FROM papers ORDER BY random() LIMIT {SIMILAR_PAPERS}"
            )
        ]
    hub.search.similar(ids[0], limit=10)  # warm up (the frequency scan)
    timings = [_timed(functools.partial(hub.search.similar, i, limit=10)) for i in ids]
    figures["similar_p50_ms"] = round(statistics.median(timings), 1)
    figures["similar_p99_ms"] = round(_percentile(timings, 0.99), 1)
    print(
        f" similar: {len(ids)} papers, p50 {figures['similar_p50_ms']} ms, "
        f"p99 {figures['similar_p99_ms']} ms"
    )


def _status_mb(field: str) -> int | None:
    """VmHWM (peak) or VmRSS (now) of this process, in MiB (Linux)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024)
    return None


def _recall(hub: Any, figures: dict[str, float | int]) -> None:
    """recall@10 of the HNSW index against exact search over the *stored* float16 vectors
    (what quantisation and the graph together lose), per efSearch, for 200 papers' stored
    vectors plus a little noise (text queries against synthetic vectors mean nothing), with
    the index alone's p99. Public calls only (search), so any index version is measured."""
    from paperroute.search._vectors import iter_vectors, vectors_of

    index = hub.search.index
    rng = np.random.default_rng(5)
    with hub._db.engine.connect() as connection:
        pks = connection.exec_driver_sql("SELECT paper_pk FROM embeddings").scalars().all()
        chosen = [int(pk) for pk in rng.choice(np.asarray(pks), 200, replace=False)]
        stored = vectors_of(connection, index.model, index.dimension, chosen)
        near = np.stack([stored[pk] for pk in chosen]).astype(np.float32)
        near += 0.02 * rng.standard_normal(near.shape).astype(np.float32)
        near /= np.linalg.norm(near, axis=1, keepdims=True)
        truth = _exact_top10(iter_vectors(connection, index.model, index.dimension), near)
    graph = faiss.downcast_index(index._faiss.index)
    kept = graph.hnsw.efSearch
    for ef in (64, 128, 256, 512):
        graph.hnsw.efSearch = ef
        hits, timings = 0, []
        for query, want in zip(near, truth, strict=True):
            start = time.perf_counter()
            found = index.search(query, 10)
            timings.append((time.perf_counter() - start) * 1000)
            hits += len({pk for pk, _ in found} & want)
        recall = hits / (10 * len(near))
        figures[f"recall10_ef{ef}"] = round(recall, 3)
        print(
            f"recall@10, efSearch {ef:3}: {recall:.3f}, index p50 "
            f"{statistics.median(timings):.2f} ms, p99 {_percentile(timings, 0.99):.2f} ms"
        )
    graph.hnsw.efSearch = kept


def _exact_top10(chunks: Any, queries: npt.NDArray[np.float32]) -> list[set[int]]:
    """Each query's 10 nearest pks by exact inner product over the (pks, vectors) chunks."""
    best = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    where = np.zeros((len(queries), 10), dtype=np.int64)
    for pks, vectors in chunks:
        scores = vectors.astype(np.float32) @ queries.T  # (chunk, queries)
        top = np.argpartition(-scores, min(10, len(pks) - 1), axis=0)[:10].T
        values = np.take_along_axis(scores.T, top, axis=1)
        both = np.concatenate([best, values], axis=1)
        rows = np.concatenate([where, pks[top]], axis=1)
        keep = np.argsort(-both, axis=1)[:, :10]
        best = np.take_along_axis(both, keep, axis=1)
        where = np.take_along_axis(rows, keep, axis=1)
    return [set(row.tolist()) for row in where]


def _serve(
    config: Config, queries: dict[str, list[str]], modes: set[str], recall: bool
) -> dict[str, float | int]:
    """A server's part, run in a fresh process (spawned): open the hub, load the saved
    index and the embedder, run the queries. Its peak RSS (VmHWM) is the serving memory:
    nothing of the corpus load or the index build is in it."""
    figures: dict[str, float | int] = {}
    with open_hub(config) as hub:
        start = time.perf_counter()
        hub.search.index.refresh(force=True)
        figures["index_load_s"] = round(time.perf_counter() - start, 2)
        print(f"index loaded: RSS {_status_mb('VmRSS')} MiB")
        # Similar papers' term bags held in memory (when the code holds them): read before
        # the timing, as the index is (a server reads them beside its first requests).
        bags = getattr(hub.search, "bags", None)
        if bags is not None and "similar" in modes:
            start = time.perf_counter()
            bags.refresh()
            figures["bags_load_s"] = round(time.perf_counter() - start, 2)
            held = bags.current()
            figures["bags_held_mb"] = round(held.nbytes / 2**20) if held is not None else 0
            print(f"term bags held ({figures['bags_held_mb']} MB): RSS {_status_mb('VmRSS')} MiB")
        hub.search.embedder()
        hub.search.query("warm up", mode=Mode.hybrid)
        # What a server reads at start, off the requests (Searcher.warm_soon): the
        # frequency sample (PostgreSQL estimates totals from it) and the spelling
        # vocabulary, 1-2 s each at 1M papers on PostgreSQL. Not timed as a first query.
        start = time.perf_counter()
        hub.search.warm_keywords()
        hub.search.query("warmup", mode=Mode.keyword)
        warm_ms = (time.perf_counter() - start) * 1000
        print(f"keyword warm-up (frequency sample, spelling vocabulary): {warm_ms:.0f} ms")
        print(f"embedder loaded, one search: RSS {_status_mb('VmRSS')} MiB")
        settle_heap()  # as a served process does once started (paperroute.heap)
        for mode in (Mode.keyword, Mode.semantic, Mode.hybrid):
            if mode.value not in modes:
                continue
            everything: list[float] = []
            for kind, texts in queries.items():
                if not texts:  # (phrases come from --hf)
                    continue
                timings = []
                for text in texts:
                    hub.search._cache.clear()  # embed every query, as a new one would be
                    timings.append(
                        _timed(functools.partial(hub.search.query, text, mode=mode, limit=20))
                    )
                everything.extend(timings)
                p50, p99 = statistics.median(timings), _percentile(timings, 0.99)
                print(
                    f"{mode.value:>8} {kind:>7}: {len(texts)} queries, "
                    f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                )
                figures[f"{mode.value}_{kind}_p99_ms"] = round(p99, 1)
            figures[f"{mode.value}_p50_ms"] = round(statistics.median(everything), 1)
            figures[f"{mode.value}_p99_ms"] = round(_percentile(everything, 0.99), 1)
            print(f"after {mode.value}: RSS {_status_mb('VmRSS')} MiB")
        if "similar" in modes:
            _time_similar(hub, figures)
            print(f"after similar: RSS {_status_mb('VmRSS')} MiB")
        server = _status_mb("VmHWM")
        if server is not None:
            figures["server_peak_rss_mb"] = server
        if recall and hub.search.index.status().kind == "hnsw":
            _recall(hub, figures)
    return figures


def _serve_in_child(
    config: Config, queries: dict[str, list[str]], modes: set[str], recall: bool
) -> dict[str, float | int]:
    with concurrent.futures.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        return pool.submit(_serve, config, queries, modes, recall).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--hf", type=Path)
    parser.add_argument("--database-url")
    parser.add_argument("--skip-embed-rate", action="store_true")
    parser.add_argument(
        "--scale", type=int, help="load the corpus plus perturbed copies of it up to N papers"
    )
    parser.add_argument(
        "--exact-max", type=int, help="vector_exact_max: beyond it the index is HNSW"
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="stop once papers and vectors are stored"
    )
    parser.add_argument(
        "--index-dir", help="keep the vector index here between runs (default: rebuilt each run)"
    )
    parser.add_argument("--skip-recall", action="store_true", help="no HNSW recall figures")
    parser.add_argument(
        "--modes",
        default="keyword,semantic,hybrid,similar",
        help="comma-separated subset of keyword,semantic,hybrid,similar to time",
    )
    args = parser.parse_args()
    modes = {m.strip() for m in args.modes.split(",") if m.strip()}
    rng = random.Random(7)
    queries = _queries(args.corpus, args.hf, rng)
    figures: dict[str, float | int] = {}
    with tempfile.TemporaryDirectory(prefix="paperroute-search-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'search.db'}"
        index_dir = args.index_dir or str(Path(folder) / "index")
        config = Config(database_url=url, vector_index_dir=index_dir)
        if args.exact_max is not None:
            config = dataclasses.replace(config, vector_exact_max=args.exact_max)
        with open_hub(config) as hub:
            with hub._db.engine.connect() as connection:
                empty = not connection.exec_driver_sql("SELECT count(*) FROM papers").scalar()
            if empty:  # a fresh database (or an empty --database-url): load the corpus
                _load(hub, args.corpus, args.scale, Path(folder))
            if hub.search.index.status().vectors == 0:
                with hub._db.engine.connect() as connection:
                    has = connection.exec_driver_sql("SELECT count(*) FROM embeddings").scalar()
                if not has:
                    start = time.perf_counter()
                    _store_synthetic_vectors(hub, np.random.default_rng(7))
                    print(f"vectors stored in {time.perf_counter() - start:.0f} s")
            start = time.perf_counter()
            # As `paperroute embed` does; only similar papers read them.
            bags = hub.search.store_term_bags() if "similar" in modes else 0
            if bags:
                print(f"term bags of {bags:,} papers stored in {time.perf_counter() - start:.0f} s")
            if args.prepare_only:
                return
            # The index from stored vectors, as a server's first start builds it (or, with
            # --index-dir, loads it when a previous run saved it in step).
            start = time.perf_counter()
            hub.search.index.refresh(force=True)
            # Similar papers' shortlist graph, when the code has one (from similar_graph_min).
            build_shortlist = getattr(hub.search.index, "build_shortlist", None)
            if build_shortlist is not None:
                build_shortlist()
            figures["index_build_s"] = round(time.perf_counter() - start, 2)
            figures["vectors"] = len(hub.search.index)
            print(
                f"index: {len(hub.search.index):,} vectors built in "
                f"{figures['index_build_s']} s ({hub.search.index.status().kind})"
            )
        figures["build_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        figures.update(_serve_in_child(config, queries, modes, not args.skip_recall))
        figures["peak_rss_mb"] = max(
            figures["build_peak_rss_mb"], figures.get("server_peak_rss_mb", 0)
        )
    if not args.skip_embed_rate:
        # The default backend ("auto": onnxruntime), and the numpy forward pass.
        figures["embed_per_s"] = round(_embed_rate(args.corpus, "auto"), 1)
        figures["embed_numpy_per_s"] = round(_embed_rate(args.corpus, "numpy"), 1)
        print(
            f"embedding: {figures['embed_per_s']} abstracts/s at 128 tokens "
            f"(numpy: {figures['embed_numpy_per_s']})"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
