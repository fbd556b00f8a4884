"""Web hub throughput: ``paperroute serve --workers 2`` over the demo database, 64 concurrent
keep-alive connections for 10 s per path, load generator on the same machine.

    python benchmarks/web.py [--duration 10] [--connections 64] [--workers 2]
                             [--database-url URL] [--generator auto|wrk|python]

Builds a fresh demo database (``paperroute demo load``) in a temporary folder unless
``--database-url`` names one, starts the server as a reader would run it (demo mode), warms
each path with one request, then loads each path in turn: ``wrk`` when installed (cheap, C),
else a compact asyncio HTTP/1.1 keep-alive client. Prints per-path requests/s, p50/p99
latency and errors, and the servers' peak resident memory; the last line is one JSON object
keyed by path, e.g. {"/trending": {"rps": X, "p50_ms": Y, "p99_ms": Z, "errors": 0}, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import free_port

PATHS = ["/", "/trending", "/papers/2608.16590", "/api/v1/trending"]


def paperroute(*args: str) -> list[str]:
    return [sys.executable, "-m", "paperroute", *args]


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
            total += int(match[1]) if match else 0
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


class MemoryWatch(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stopped = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(text)
    value, unit = float(match[1]), match[2]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(base: str, path: str, connections: int, duration: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "--timeout",
            "5s",
            base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx[1])
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return {
        "rps": round(rps, 1),
        "p50_ms": round(_ms(latency["50"]), 2),
        "p99_ms": round(_ms(latency["99"]), 2),
        "errors": errors,
    }


async def _client(
    host: str, port: int, path: str, stop: float, latencies: list[float], errors: list[int]
) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])  # type: ignore[index]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                errors[0] += 1
    except (OSError, asyncio.IncompleteReadError, TypeError, ValueError):
        errors[0] += 1
    finally:
        writer.close()


def run_python(base: str, path: str, connections: int, duration: int) -> dict[str, Any]:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = [0]

    async def main() -> None:
        stop = time.perf_counter() + duration
        await asyncio.gather(
            *(_client(host, int(port), path, stop, latencies, errors) for _ in range(connections))
        )

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "errors": errors[0],
    }


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"paperroute serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/static/css/app.css", timeout=1):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("paperroute serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if generator == "wrk" else run_python

    with tempfile.TemporaryDirectory(prefix="paperroute-web-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        if not args.database_url:
            started = time.perf_counter()
            subprocess.run(
                paperroute("--database-url", url, "demo", "load"), check=True, capture_output=True
            )
            print(f"demo database loaded in {time.perf_counter() - started:.1f} s")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PAPERROUTE_DATABASE_URL": url,
            "PAPERROUTE_DEMO": "1",
            "PAPERROUTE_SECRET_KEY": "benchmark-throwaway-secret",
            "PAPERROUTE_BASE_URL": base,
        }
        env.pop("PAPERROUTE_CONFIG", None)
        server = subprocess.Popen(
            paperroute("serve", "--port", str(port), "--workers", str(args.workers)),
            env=env,
            start_new_session=True,
        )
        watch = MemoryWatch(server.pid)
        results: dict[str, dict[str, Any]] = {}
        try:
            wait_ready(base, server)
            for path in PATHS:  # warm: each worker renders and caches on its first hit
                for _ in range(args.workers * 4):
                    with urllib.request.urlopen(base + path, timeout=10) as response:  # noqa: S310
                        response.read()
            watch.start()
            print(f"generator: {generator}; {args.connections} connections, {args.duration} s "
                  f"per path; {args.workers} workers; {os.cpu_count()} CPUs")  # fmt: skip
            for path in PATHS:
                results[path] = load(base, path, args.connections, args.duration)
                r = results[path]
                print(f"{path:24} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:>7.2f} ms  "
                      f"p99 {r['p99_ms']:>7.2f} ms  errors {r['errors']}")  # fmt: skip
        finally:
            watch.stopped.set()
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        print(f"peak server memory (all processes): {watch.peak_kb / 1024:.0f} MiB")
        print(json.dumps(results))


if __name__ == "__main__":
    main()
