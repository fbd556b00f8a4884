"""Search latency on the 200k corpus — keyword mode only so far (semantic and hybrid come
with the embedder, issue 4).

    python benchmarks/search.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz \
        [--hf ../shared/data/hf-daily/hf-daily-papers-*.tar.gz] [--database-url URL]

Loads the corpus into a fresh SQLite database (or uses --database-url as it is), then runs a
realistic query set one query at a time: Hugging Face ai_keywords phrases, title fragments,
author names and one-word common terms. Prints p50/p99 per kind and overall; the last line
is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import random
import resource
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

from paperroute import Config, open_hub
from paperroute.ingest import ingest_jsonl

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
        with tarfile.open(hf) as archive:
            for member in archive:
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is None or not member.name.endswith(".json"):
                    continue
                try:
                    items = json.loads(handle.read())
                except ValueError:
                    continue
                for item in items if isinstance(items, list) else []:
                    if isinstance(item, str):
                        item = ast.literal_eval(item)
                    phrases.extend(item.get("paper", {}).get("ai_keywords") or [])
    return {
        "phrase": [f'"{p}"' for p in rng.sample(phrases, min(100, len(phrases)))],
        "title": fragments,
        "author": [f'author:"{a}"' for a in rng.sample(authors, 100)],
        "common": COMMON * 5,
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--hf", type=Path)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    rng = random.Random(7)
    queries = _queries(args.corpus, args.hf, rng)
    with tempfile.TemporaryDirectory(prefix="paperroute-search-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'search.db'}"
        with open_hub(Config(database_url=url)) as hub:
            if args.database_url is None:
                ingest_jsonl(hub, [args.corpus])
            figures: dict[str, float | int] = {}
            everything: list[float] = []
            for kind, texts in queries.items():
                timings = []
                for text in texts:
                    start = time.perf_counter()
                    hub.search(text, limit=20)
                    timings.append((time.perf_counter() - start) * 1000)
                everything.extend(timings)
                p50, p99 = statistics.median(timings), _percentile(timings, 0.99)
                print(f"{kind:>7}: {len(texts)} queries, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
                figures[f"keyword_{kind}_p99_ms"] = round(p99, 1)
            figures["keyword_p50_ms"] = round(statistics.median(everything), 1)
            figures["keyword_p99_ms"] = round(_percentile(everything, 0.99), 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
