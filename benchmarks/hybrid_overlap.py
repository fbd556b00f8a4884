"""In-process timing of hybrid search with the query embedded each time (the query-vector
cache emptied before every search): how much overlapping the embedding with the keyword
side saves. Run it on the code before and after a change, on copies of one database:

    python benchmarks/hybrid_overlap.py sqlite:////tmp/demo-copy.db [--rounds 5] [--serial]

``--serial`` runs the Searcher's worker tasks inline (the embedding before the keyword
side, as before the overlap) on the same code, so that the two can be compared in
alternation. Prints p50 / p90 in ms over every query of every round, then one JSON
object."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from paperroute import Config, open_hub

QUERIES = [
    "diffusion models for video",
    "agents that use tools",
    "retrieval augmented generation",
    "graph neural networks",
    "reinforcement learning from human feedback",
    "speech recognition",
    "protein structure prediction",
    "mixture of experts",
    "long context language models",
    "image segmentation",
]


class Inline(Executor):
    """Runs each task at once, in the caller's thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller, as a pool does
            future.set_exception(exc)
        return future


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serial", action="store_true", help="no overlap (worker inline)")
    args = parser.parse_args()
    with open_hub(Config(database_url=args.database_url)) as hub:
        search = hub.search
        if args.serial:
            search._pool = Inline()  # type: ignore[assignment]
        search.query("warm up", mode="hybrid")  # loads the embedder and the index
        timings: list[float] = []
        for _ in range(args.rounds):
            for query in QUERIES:
                search._cache.clear()  # embed the query every time, as a new query is
                started = time.perf_counter()
                search.query(query, mode="hybrid", limit=20)
                timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p90 = timings[int(0.9 * (len(timings) - 1))]
    label = "serial" if args.serial else "overlapped"
    print(
        f"{label} hybrid, query embedded each time: p50 {p50:.1f} ms, p90 {p90:.1f} ms "
        f"({len(timings)})"
    )
    print(json.dumps({"hybrid_embed_p50_ms": round(p50, 2), "hybrid_embed_p90_ms": round(p90, 2)}))


if __name__ == "__main__":
    main()
