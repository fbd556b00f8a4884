"""What a cache miss costs: each page built and rendered from the database, in process, over
the demo data (the page cache emptied before every request), and how long one data-version
check takes (the query each worker runs at most once a second to see whether the cached
pages are still current).

    python benchmarks/web_cold.py [--database-url URL] [--repeat 20]

Builds a fresh demo database on SQLite in a temporary folder unless ``--database-url`` names
one that holds the demo data (e.g. a PostgreSQL database loaded with ``paperroute demo
load``). Prints per-path p50/max milliseconds; the last line is one JSON object keyed by path,
plus "data_version" (the check's p50/max ms) and the trending pages read from precomputed
rankings ("/trending precomputed", ...; `paperroute trending --refresh`) beside the same pages
computed per request ("/trending", ...).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete

from _common import peak_rss_mb
from paperroute import Config
from paperroute.store.schema_upkeep import trending_runs
from paperroute.web.app import create_app

PATHS = ["/", "/trending", "/papers/2608.16590", "/api/v1/trending", "/feeds/daily.atom"]
TRENDING_PATHS = ["/trending", "/trending?window=month", "/api/v1/trending"]


def _figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


def _cold(client: TestClient, cache: Any, path: str, repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat + 1):
        cache.clear()
        start = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    return _figures(samples[1:])  # the first warms the connection pool


def measure(url: str, repeat: int) -> dict[str, Any]:
    config = Config(database_url=url, demo=True, allowed_hosts="testserver")
    results: dict[str, Any] = {}
    with TestClient(create_app(config)) as client:
        app: Any = client.app
        cache = app.state.page_cache
        hub = app.state.hub
        with hub._db.write() as connection:  # the trending pages as computed per request
            connection.execute(delete(trending_runs))
        for path in dict.fromkeys([*PATHS, *TRENDING_PATHS]):
            results[path] = _cold(client, cache, path, repeat)
        # The trending pages again, reading the rankings `paperroute trending --refresh` stored.
        hub.reading.precompute_trending()
        for path in TRENDING_PATHS:
            results[f"{path} precomputed"] = _cold(client, cache, path, repeat)
        version = app.state.hub.reading.data_version  # what each worker runs once a second
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            version()
            samples.append(time.perf_counter() - start)
        results["data_version"] = _figures(samples)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'demo.db'}"
        if not args.database_url:
            env = {**os.environ, "PAPERROUTE_DATABASE_URL": url}
            env.pop("PAPERROUTE_CONFIG", None)
            command = [sys.executable, "-m", "paperroute", "demo", "load"]
            subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        results = measure(url, args.repeat)
    for path, figures in results.items():
        print(f"{path:28} p50 {figures['p50_ms']:8.2f} ms   max {figures['max_ms']:8.2f} ms")
    print(f"peak memory: {peak_rss_mb():.0f} MB")
    print(json.dumps({**results, "peak_rss_mb": round(peak_rss_mb())}))


if __name__ == "__main__":
    main()
