"""What the operations layer costs (web/ops.py, web/metrics.py), in process, no network:

- the request metrics on every request: a trivial ASGI app called directly, bare and
  wrapped in ``Operations``, median microseconds per request over several rounds;
- one ``/metrics`` exposition (the database counts included) and one ``/readyz`` pass
  (both checks), median milliseconds, over the database named (copy a real one first:
  the hub migrates what it opens).

    python benchmarks/ops.py [--database-url URL] [--requests 20000] [--rounds 5]

The last line is one JSON object: {"request_overhead_us": X, "bare_us": Y, "with_ops_us":
Z, "metrics_ms": M, "readyz_ms": R, "papers": N}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from paperroute import Config
from paperroute.web.app import create_app
from paperroute.web.ops import Operations


async def trivial(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def per_request_us(app: Any, requests: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for n in range(requests):
        scope = {
            "type": "http",
            "method": "GET",
            "path": f"/papers/2401.{n % 1000:05d}",
            "raw_path": b"/papers/x",
            "query_string": b"",
            "headers": [],
            "client": ("127.0.0.1", 5000),
        }
        await app(scope, receive, send)
    return (time.perf_counter() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="paperroute-ops-bench-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'hub.db'}"
    config = Config(database_url=url, secret_key="ops-benchmark-secret")  # noqa: S106
    app = create_app(config)
    wrapped = Operations(trivial, config, app.state.metrics, app.state.ready_checks)

    bare, with_ops = [], []
    for _ in range(args.rounds):
        bare.append(asyncio.run(per_request_us(trivial, args.requests)))
        with_ops.append(asyncio.run(per_request_us(wrapped, args.requests)))
    bare_us, ops_us = statistics.median(bare), statistics.median(with_ops)

    metrics_ms, readyz_ms = [], []
    checks = list(app.state.ready_checks.values())
    for _ in range(20):
        started = time.perf_counter()
        app.state.metrics.render()
        metrics_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for check in checks:
            check()
        readyz_ms.append((time.perf_counter() - started) * 1000)
    papers = sum(app.state.hub.papers.count_by_source().values())
    app.state.hub.close()
    result = {
        "request_overhead_us": round(ops_us - bare_us, 2),
        "bare_us": round(bare_us, 2),
        "with_ops_us": round(ops_us, 2),
        "metrics_ms": round(statistics.median(metrics_ms), 2),
        "readyz_ms": round(statistics.median(readyz_ms), 2),
        "papers": papers,
    }
    print(f"request metrics: {result['request_overhead_us']} us per request")
    print(f"/metrics exposition: {result['metrics_ms']} ms")
    print(f"/readyz checks: {result['readyz_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
