"""Recommendation speed: every reader's top 20 of a day's papers at once (what digests need),
and one reader's For-you ranking at 200k papers.

    python benchmarks/recommend.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz \
        [--database-url sqlite:////tmp/recommend-200k.db] [--readers 100000] [--day 2000] \
        [--block 512] [--threads 2] [--for-you 200]

Loads the corpus into SQLite (or reuses ``--database-url`` when it holds papers), with one
clustered synthetic unit vector per paper as ``benchmarks/search.py`` stores them (embedding
200k abstracts takes hours here) and the real term bags ``paperroute embed`` stores. The
"day" is the ``--day`` newest papers; ``--readers`` readers get libraries of 5 to 500 older
papers (log-uniform sizes, drawn from one to three primary categories each, so they have
topics). **models**: ``ranking.reader_models`` of every reader (interest vectors clustered
from the seeds' vectors, gathered block by block; the term seeds): what a reader's signals
cost once, kept until they change (``hub.recommend`` keeps them in memory between digest
runs, ``recommend_model_cache_mb``). **batch**: the day's ranking from the models,
``ranking.rank_many`` (each seed's terms looked up among the day's once, each block's term
masses, BM25 and vector scores as matrix products, top 20 by argpartition; readers in
blocks of ``--block``, float32, ``--workers`` threads each using ``--threads`` BLAS
threads). **for-you**:
``hub.recommend.rank`` of ``--for-you`` readers (their libraries) over the last 7 days of
the store, limit 120 (what ``/for-you`` runs for its 30 picks besides reading the reader's
signals and diversifying), p50 / p99. The last line is one JSON object: ``readers``,
``models_s``, ``batch_s`` (and ``models_cpu_s``, ``batch_cpu_s``, the process's CPU
seconds), ``model_mb`` (the models' memory), ``term_counts_s`` and ``term_counts_mb`` (the
store's term counts, the term side's idf: a full count, done once a day),
``for_you_p50_ms``, ``for_you_p99_ms``, ``peak_rss_mb``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

import numpy as np
from threadpoolctl import threadpool_limits

from _common import parse_sets, peak_rss_mb
from paperroute import Config, open_hub
from paperroute.recommend import Profile, RankSettings, Seed
from paperroute.recommend.foryou import POOL
from paperroute.recommend.ranking import ReaderSeeds, rank_many, reader_models, recency_weights
from paperroute.search import load_bags
from search import _load, _store_synthetic_vectors


class LazyReaders(Sequence[ReaderSeeds]):
    """Readers as seed positions; a slice gathers their vectors (a block at a time, as a
    digest run would read them). A seed's key is its position."""

    def __init__(self, libraries: list[np.ndarray], vectors: np.ndarray) -> None:
        self.libraries, self.vectors = libraries, vectors

    def __len__(self) -> int:
        return len(self.libraries)

    def _one(self, n: int) -> ReaderSeeds:
        seeds = self.libraries[n]
        weights = recency_weights(len(seeds), RankSettings().recency_power)
        return ReaderSeeds(self.vectors[seeds], weights, seeds.tolist())

    @overload
    def __getitem__(self, index: int) -> ReaderSeeds: ...
    @overload
    def __getitem__(self, index: slice) -> list[ReaderSeeds]: ...
    def __getitem__(self, index: int | slice) -> ReaderSeeds | list[ReaderSeeds]:
        if isinstance(index, slice):
            return [self._one(n) for n in range(*index.indices(len(self)))]
        return self._one(index)

    def __iter__(self) -> Iterator[ReaderSeeds]:
        return (self._one(n) for n in range(len(self)))


def libraries(
    count: int, categories: np.ndarray, rng: np.random.Generator, low: int = 5, high: int = 500
) -> list[np.ndarray]:
    """Each reader's seed positions (newest first: positions are in date order)."""
    by_category: dict[int, np.ndarray] = {}
    for c in np.unique(categories).tolist():
        by_category[c] = np.flatnonzero(categories == c)
    names = np.array(sorted(by_category))
    sizes = np.array([len(by_category[c]) for c in names], dtype=np.float64)
    weights = sizes / sizes.sum()
    lengths = np.exp(rng.uniform(np.log(low), np.log(high + 1), count)).astype(np.int64)
    out = []
    for length in lengths.tolist():
        topics = rng.choice(names, size=int(rng.integers(1, 4)), p=weights)
        counts = rng.multinomial(length, np.full(len(topics), 1 / len(topics)))
        picked = np.unique(
            np.concatenate(
                [
                    rng.choice(by_category[int(t)], min(c, len(by_category[int(t)])), False)
                    for t, c in zip(topics.tolist(), counts.tolist(), strict=True)
                ]
            )
        )
        if len(picked) < low:  # small categories: the rest from anywhere, no paper twice
            others = np.setdiff1d(np.arange(len(categories)), picked)
            picked = np.union1d(picked, rng.choice(others, low - len(picked), replace=False))
        out.append(picked[::-1].copy())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--database-url")
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--day", type=int, default=2_000)
    parser.add_argument("--block", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads")
    parser.add_argument("--workers", type=int, default=1, help="rank_many's threads")
    parser.add_argument("--for-you", type=int, default=200)
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a RankSettings value"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    figures: dict[str, Any] = {"readers": args.readers, "day": args.day}
    with tempfile.TemporaryDirectory(prefix="paperroute-recommend-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'recommend.db'}"
        index_dir = (url.removeprefix("sqlite:///") + ".index") if args.database_url else folder
        config = Config(database_url=url, vector_index_dir=str(Path(index_dir)))
        with open_hub(config) as hub:
            with hub._db.engine.connect() as connection:
                empty = not connection.exec_driver_sql("SELECT count(*) FROM papers").scalar()
            if empty:
                _load(hub, args.corpus, None, Path(folder))
                start = time.perf_counter()
                _store_synthetic_vectors(hub, np.random.default_rng(7))
                print(f"vectors stored in {time.perf_counter() - start:.0f} s", flush=True)
                start = time.perf_counter()
                hub.search.store_term_bags()
                print(f"term bags stored in {time.perf_counter() - start:.0f} s", flush=True)
            index = hub.search.index
            start = time.perf_counter()
            index.refresh()
            with hub._db.engine.connect() as connection:
                rows = connection.exec_driver_sql(
                    "SELECT pk, id, coalesce(primary_category, ''), announced_on FROM papers "
                    "ORDER BY coalesce(announced_on, '0000'), pk"
                ).all()
            pks = [int(r[0]) for r in rows]
            vectors = np.zeros((len(pks), 384), dtype=np.float32)
            for n, pk in enumerate(pks):
                found = index.vector(pk)
                if found is not None:
                    vectors[n] = found
            with hub._db.read() as connection:
                stored = load_bags(connection, pks)
            bags = [stored[pk] for pk in pks]
            names = {c: n for n, c in enumerate(sorted({r[2] for r in rows}))}
            categories = np.array([names[r[2]] for r in rows[: -args.day]])
            print(
                f"{len(pks):,} papers, vectors and bags read in "
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
            figures["papers"] = len(pks)

            readers = LazyReaders(libraries(args.readers, categories, rng), vectors)
            sizes = [len(x) for x in readers.libraries]
            print(
                f"{args.readers:,} readers, libraries of {min(sizes)}-{max(sizes)} "
                f"(mean {np.mean(sizes):.0f}); load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            day_vectors = vectors[-args.day :]
            day_bags = bags[-args.day :]
            settings = replace(RankSettings(), **parse_sets(args.set))
            figures["settings"] = dict(item.partition("=")[::2] for item in args.set)
            hub.recommend.settings = settings
            # The store's term counts, the term side's idf: counted once a day (and brought
            # up to date from the bags stored since), so not part of batch_s.
            start = time.perf_counter()
            frequencies = hub.recommend.count_terms()
            assert frequencies is not None
            figures["term_counts_s"] = round(time.perf_counter() - start, 1)
            figures["term_counts_mb"] = round(frequencies.nbytes / 2**20, 1)
            print(
                f"the store's term counts in {figures['term_counts_s']} s "
                f"({len(frequencies.keys):,} terms, {figures['term_counts_mb']} MB)",
                flush=True,
            )
            figures["workers"], figures["threads"] = args.workers, args.threads
            with threadpool_limits(limits=args.threads):
                start, cpu = time.perf_counter(), time.process_time()
                models = reader_models(
                    readers, settings, block=args.block, sizes=[len(x) for x in readers.libraries]
                )
                figures["models_s"] = round(time.perf_counter() - start, 1)
                figures["models_cpu_s"] = round(time.process_time() - cpu, 1)
                figures["model_mb"] = round(sum(m.nbytes for m in models) / 2**20, 1)
                print(
                    f"models of {args.readers:,} readers in {figures['models_s']} s "
                    f"({figures['model_mb']} MB; load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
                start, cpu = time.perf_counter(), time.process_time()
                positions, _scores = rank_many(
                    models,
                    day_vectors,
                    20,
                    settings,
                    candidate_bags=day_bags,
                    seed_bags=dict(enumerate(bags[: -args.day])),
                    frequencies=frequencies,
                    block=args.block,
                    workers=args.workers,
                )
                figures["batch_s"] = round(time.perf_counter() - start, 1)
                # On a shared machine the wall time mostly measures the neighbours.
                figures["batch_cpu_s"] = round(time.process_time() - cpu, 1)
            assert positions.shape == (args.readers, 20)
            print(
                f"batch: every reader's top 20 in {figures['batch_s']} s "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )

            # For you: one reader at a time over the store's last 7 days, on one BLAS thread
            # as a served process runs (web/app.py app_from_env).
            days = [r[3] for r in rows if r[3] is not None]
            newest = max(days)
            newest = (
                newest if isinstance(newest, dt.date) else dt.date.fromisoformat(str(newest)[:10])
            )
            since = newest - dt.timedelta(days=7)
            ids = [str(r[1]) for r in rows]
            timings = []
            # The page ranks POOL times its 30 picks, then diversifies (recommend/foryou.py).
            page = 30 * POOL
            hub.recommend.rank(Profile(seeds=(Seed(ids[0]),)), since=since, limit=page)  # warm
            with threadpool_limits(limits=1, user_api="blas"):
                for n in range(args.for_you):
                    seeds = tuple(Seed(ids[i]) for i in readers.libraries[n].tolist())
                    start = time.perf_counter()
                    picks = hub.recommend.rank(Profile(seeds=seeds), since=since, limit=page)
                    timings.append((time.perf_counter() - start) * 1000)
                    assert picks
            timings.sort()
            figures["for_you_p50_ms"] = round(timings[len(timings) // 2], 1)
            figures["for_you_p99_ms"] = round(
                timings[min(len(timings) - 1, int(0.99 * len(timings)))], 1
            )
            print(
                f"for-you ranking since {since}: p50 {figures['for_you_p50_ms']} ms, "
                f"p99 {figures['for_you_p99_ms']} ms",
                flush=True,
            )
    figures["load_avg"] = round(os.getloadavg()[0], 1)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(f"peak memory {figures['peak_rss_mb']} MiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
