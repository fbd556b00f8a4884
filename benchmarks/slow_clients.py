"""Slow clients against a real ``paperroute serve`` (issue 14, item 7): open N connections
that never finish their request head (8,000 by default, fewer when the open-file limit
says so), then time another client's requests while they are open, and how long the
server takes to close them all (``serve_header_timeout``).

    python benchmarks/slow_clients.py [--connections 8000] [--header-timeout 10]

Prints the figures; the last line is one JSON object. No assertion on timings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.served import close_all, open_slow, raise_fd_limit, served, wait_closed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=8_000)
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    limit = raise_fd_limit(args.connections + 1_000)
    count = min(args.connections, limit - 500)
    if count < args.connections:
        print(f"open-file limit {limit}: {count} connections instead of {args.connections}")
    with (
        tempfile.TemporaryDirectory() as folder,
        served(
            f"sqlite:///{Path(folder) / 'hub.db'}",
            Path(folder),
            serve_header_timeout=str(args.header_timeout),
            serve_limit_concurrency=str(count + 500),
        ) as (base, port),
    ):
        with httpx.Client(timeout=30) as client:
            client.get(base + "/")  # warm
            idle = []
            for _ in range(args.requests):
                start = time.perf_counter()
                client.get(base + "/")
                idle.append((time.perf_counter() - start) * 1000)
            opened_at = time.monotonic()
            slow = open_slow(port, count)
            open_s = time.monotonic() - opened_at
            busy, statuses = [], []
            for _ in range(args.requests):
                start = time.perf_counter()
                statuses.append(client.get(base + "/").status_code)
                busy.append((time.perf_counter() - start) * 1000)
        closed = wait_closed(slow, args.header_timeout + 60 - (time.monotonic() - opened_at))
        all_closed_s = time.monotonic() - opened_at
        close_all(slow)
    result = {
        "slow_connections": count,
        "open_file_limit": limit,
        "header_timeout_s": args.header_timeout,
        "seconds_to_open_them": round(open_s, 2),
        "other_client_ms_without": {
            "median": round(statistics.median(idle), 2),
            "max": round(max(idle), 2),
        },
        "other_client_ms_while_open": {
            "median": round(statistics.median(busy), 2),
            "p95": round(sorted(busy)[int(len(busy) * 0.95) - 1], 2),
            "max": round(max(busy), 2),
        },
        "other_client_statuses": sorted(set(statuses)),
        "closed_by_server": closed,
        "seconds_until_all_closed_from_first_open": round(all_closed_s, 2),
    }
    print(
        f"{count} slow connections open: another client's GET / took "
        f"{result['other_client_ms_while_open']['median']} ms median (max "
        f"{result['other_client_ms_while_open']['max']} ms; "
        f"{result['other_client_ms_without']['median']} ms without them); "
        f"{closed}/{count} closed by the server {all_closed_s:.1f} s after the first opened "
        f"(header timeout {args.header_timeout} s)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
