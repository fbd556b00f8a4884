"""Freshness: how long a paper takes from appearing at its (replayed) source until the hub
shows it on the daily page with its vector stored (searchable by meaning, and in its
neighbours' similar papers once the index refreshes: `embed` refreshes it in the worker).

A local HTTP server plays Hugging Face's daily-papers API; a day of ``--papers`` papers (the
bundled demo dump's items, given ids of their own) "appears" when the server starts
answering it. A scheduled hf-daily source with a schedule of ``--every`` seconds (hourly,
shortened) is consumed by the real job queue: a Huey consumer with ``--concurrency`` threads
in this process (SqliteHuey beside a SQLite database by default; ``--database-url`` and
``--redis-url`` for PostgreSQL / Redis), ticked every second as its scheduler would be every
minute. Each paper's freshness is the time from its day's appearance to the first poll
(every 0.5 s) that finds it on the daily page *and* with its vector. Then ``--jobs`` small
jobs (housekeeping: three deletes and the run's record) measure the queue's throughput.

Then the ``enrich`` job, through the same queue, completes the papers just imported (known
only from Hugging Face) from a local server that answers like the arXiv API
(benchmarks/enrich.py's: a recorded entry per asked id), unpaced (``arxiv_min_interval`` 0):
``enrich_per_s`` is papers enriched per second of the job (its category inference included).
Last, with the consumer stopped, two ``paperroute serve --no-worker --workers 1`` processes on
the same database take ``--web-threads`` threads of GETs of the daily page (``/``), each
thread on one node, half on each, for ``--web-seconds``: ``web_rps_two_nodes`` is the answers
(all 200) per second.

    python benchmarks/freshness.py [--papers 1000] [--days 2] [--every 5] [--concurrency 2]
        [--database-url URL] [--redis-url URL] [--embedder model|hash] [--jobs 200]
        [--web-threads 8] [--web-seconds 15]

The last line is one JSON object: {"freshness_p50_s", "freshness_p99_s", "enrich_per_s",
"embed_per_s_in_worker", "jobs_per_s", "web_rps_two_nodes", "papers", "days",
"semantic_found", "peak_rss_mb", "web_node_peak_rss_mb", "load_avg", ...}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from huey.signals import SIGNAL_COMPLETE
from sqlalchemy import text

from _common import free_port, hf_dump_items, peak_rss_mb
from enrich import _entry_template
from enrich import serve as serve_arxiv
from paperroute import Config
from paperroute.jobs import Jobs, consumer, make_schedule

PAGE = 100


class DaysServer:
    """Hugging Face's ``/api/daily_papers?date=D&limit=100&p=N`` for the days published."""

    def __init__(self) -> None:
        self.days: dict[str, list[Any]] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                with server.lock:
                    items = server.days.get(query.get("date", ""), [])
                page = int(query.get("p", "0") or 0)
                body = json.dumps(items[page * PAGE : (page + 1) * PAGE]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/daily_papers"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, day: dt.date, items: list[Any]) -> None:
        with self.lock:
            self.days[day.isoformat()] = items

    def close(self) -> None:
        self.httpd.shutdown()


def day_items(template: list[Any], day_index: int, count: int) -> list[Any]:
    """``count`` items of the demo dump, with ids and titles of their own for this day."""
    items = []
    for number in range(count):
        item = json.loads(json.dumps(template[number % len(template)]))
        paper = item.setdefault("paper", {})
        paper["id"] = f"25{day_index + 1:02d}.{number + 10000:05d}"
        title = (
            f"{paper.get('title') or item.get('title') or 'Untitled'} [fresh {day_index}.{number}]"
        )
        paper["title"] = item["title"] = title
        items.append(item)
    return items


def fresh_ids(jobs: Jobs, day: dt.date, model: str) -> set[str]:
    """The arXiv ids on ``day``'s daily page that have their vector."""
    hub = jobs.hub()
    query = text(
        "SELECT p.arxiv_id FROM papers p JOIN daily_entries d ON d.paper_pk = p.pk "
        "JOIN embeddings e ON e.paper_pk = p.pk AND e.model = :model WHERE d.day = :day"
    )
    with hub._db.read() as connection:
        return {str(r[0]) for r in connection.execute(query, {"model": model, "day": day})}


def web_load(config: Config, folder: Path, threads: int, seconds: float) -> dict[str, Any]:
    """Two ``paperroute serve --no-worker`` nodes on ``config``'s database; ``threads``
    threads of GET / (each on one node, alternately) for ``seconds``."""
    env = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": config.database_url,
        "PAPERROUTE_REDIS_URL": config.redis_url,
        "PAPERROUTE_VECTOR_INDEX_DIR": config.vector_index_dir,
        "PAPERROUTE_SECRET_KEY": "freshness-benchmark-secret-key-0123456789",
    }
    for inherited in ("PAPERROUTE_CONFIG", "PROMETHEUS_MULTIPROC_DIR", "PAPERROUTE_DEMO"):
        env.pop(inherited, None)
    ports = [free_port(), free_port()]
    nodes = []
    for number, port in enumerate(ports):
        log = (folder / f"web{number}.log").open("wb")
        command = [sys.executable, "-m", "paperroute", "serve", "--port", str(port)]
        command += ["--workers", "1", "--no-worker"]
        nodes.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    counts = {"answers": 0, "errors": 0}
    lock = threading.Lock()
    try:
        for base in bases:  # up, and each node's page cache warm
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/", timeout=10).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"the web node on {base} did not answer; see {folder}")
                time.sleep(0.2)
        stop = threading.Event()

        def load(base: str) -> None:
            answers = errors = 0
            with httpx.Client(base_url=base, timeout=30) as client:
                while not stop.is_set():
                    try:
                        ok = client.get("/").status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    answers += ok
                    errors += not ok
            with lock:
                counts["answers"] += answers
                counts["errors"] += errors

        workers = [
            threading.Thread(target=load, args=(bases[k % 2],), daemon=True) for k in range(threads)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        stop.set()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
        node_rss = [_peak_rss_of(node.pid) for node in nodes]
    finally:
        for node in nodes:
            node.send_signal(signal.SIGINT)
        for node in nodes:
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.kill()
    return {
        "rps": round(counts["answers"] / elapsed, 1),
        **counts,
        "node_peak_rss_mb": max(node_rss) if all(r is not None for r in node_rss) else None,
    }


def _peak_rss_of(pid: int) -> float | None:
    """A process's peak resident memory (VmHWM) with its children's (uvicorn's worker), MiB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--every", type=int, default=5, help="the source's schedule, seconds")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--embedder", choices=("model", "hash"), default="model")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--web-threads", type=int, default=8)
    parser.add_argument("--web-seconds", type=float, default=15.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="paperroute-freshness-"))
    url = args.database_url or f"sqlite:///{folder / 'fresh.db'}"
    server = DaysServer()
    arxiv, arxiv_url = serve_arxiv(_entry_template())
    config = Config(
        database_url=url,
        redis_url=args.redis_url,
        hf_daily_url=server.url,
        arxiv_api_url=arxiv_url,
        arxiv_min_interval=0.0,  # unpaced: what the parse, merge and write cost
        http_max_retries=1,
        vector_index_dir=str(folder / "index"),
    )
    embedder = None
    if args.embedder == "hash":
        sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
        from support.embedders import HashEmbedder

        embedder = HashEmbedder(384)
    with resources.as_file(resources.files("paperroute") / "data" / "hf-daily.tar.gz") as dump:
        template = [i for i in hf_dump_items(dump) if isinstance(i, dict) and i.get("paper")]

    today = dt.datetime.now(dt.UTC).date()
    jobs = Jobs(config, embedder=embedder)
    jobs.huey.flush()
    hub = jobs.hub()
    model = hub.search.model
    hub.search.embedder()  # loaded before the clock starts, as a running worker has it
    # One date per day of papers, the last today: the source re-reads them all (unchanged
    # papers cost little), as an hf-daily source with --days-back does.
    dates = [today - dt.timedelta(days=args.days - 1 - k) for k in range(args.days)]
    schedule = make_schedule("hf-daily", f"{args.every}s")
    hub.sources.add("hf-daily", schedule, {"days_back": args.days - 1})
    running = consumer(jobs, args.concurrency, periodic=False, embedded=True)
    running.start()
    freshness: list[float] = []
    embed_seconds = 0.0
    stop_ticks = threading.Event()

    def ticker() -> None:  # the scheduler's minute, shortened to a second
        while not stop_ticks.wait(1.0):
            jobs.tasks.tick()

    threading.Thread(target=ticker, daemon=True).start()
    started_all = time.monotonic()
    try:
        for day_index in range(args.days):
            items = day_items(template, day_index, args.papers)
            day = dates[day_index]
            expected = {i["paper"]["id"] for i in items}
            before = {t.job: t.seconds for t in hub.job_runs.totals()}
            appeared = time.monotonic()
            server.publish(day, items)
            seen: set[str] = set()
            deadline = appeared + args.timeout
            while seen < expected and time.monotonic() < deadline:
                time.sleep(0.5)
                now = time.monotonic()
                for paper_id in fresh_ids(jobs, day, model) & expected - seen:
                    seen.add(paper_id)
                    freshness.append(now - appeared)
            if seen < expected:
                print(f"day {day_index}: {len(expected - seen)} papers never became fresh")
            after = {t.job: t.seconds for t in hub.job_runs.totals()}
            embed_seconds += after.get("embed", 0.0) - before.get("embed", 0.0)
            print(
                f"day {day_index}: {len(seen)} papers fresh, p50 "
                f"{statistics.median(freshness[-len(seen) :] or [0]):.1f} s",
                flush=True,
            )
        stop_ticks.set()
        semantic_found = 0
        sample = sorted(expected)[:: max(1, len(expected) // 20)][:20]
        for paper_id in sample:
            paper = hub.papers.show(paper_id)
            hits = hub.search.query(paper.title, mode="semantic", limit=10)
            semantic_found += any(h.id == paper_id for h in hits.hits)
        # The queue's own throughput: small jobs through the queue, the lock (a second run
        # at once finds it held and returns), the run and its record.
        finished = threading.Semaphore(0)
        jobs.huey.signal(SIGNAL_COMPLETE)(lambda *_args: finished.release())
        t0 = time.monotonic()
        for _ in range(args.jobs):
            jobs.tasks.housekeeping()
        jobs_done = sum(finished.acquire(timeout=args.timeout) for _ in range(args.jobs))
        jobs_seconds = time.monotonic() - t0
        # A periodic task's result is not stored: its run is seen in job_runs.
        jobs.tasks.enrich()
        enrich_runs: list[Any] = []
        deadline = time.monotonic() + args.timeout
        while not enrich_runs and time.monotonic() < deadline:
            time.sleep(0.2)
            enrich_runs = [t for t in hub.job_runs.totals() if t.job == "enrich"]
        enrich_seconds = enrich_runs[0].seconds if enrich_runs else 0.0
        enriched = hub.upkeep.enrich_status().get("done", 0)
        while jobs.pending() and time.monotonic() < deadline:  # the embedding it asked for
            time.sleep(0.5)
    finally:
        stop_ticks.set()
        running.stop(graceful=True)
        server.close()
        arxiv.shutdown()
        jobs.close()
    web = web_load(config, folder, args.web_threads, args.web_seconds)
    total = len(freshness)
    ordered = sorted(freshness)
    result = {
        "freshness_p50_s": round(statistics.median(ordered), 2) if ordered else None,
        "freshness_p99_s": round(ordered[min(total - 1, int(total * 0.99))], 2)
        if ordered
        else None,
        "embed_per_s_in_worker": round(total / embed_seconds, 1) if embed_seconds else None,
        "jobs_per_s": round(jobs_done / jobs_seconds, 1) if jobs_seconds else None,
        "enrich_per_s": round(enriched / enrich_seconds, 1)
        if enriched and enrich_seconds
        else None,
        "enrich_papers": enriched,
        "web_rps_two_nodes": web["rps"],
        "web_answers": web["answers"],
        "web_errors": web["errors"],
        "web_threads": args.web_threads,
        "papers": total,
        "days": args.days,
        "semantic_found": f"{semantic_found}/{len(sample)}",
        "queue": jobs.where(),
        "embedder": args.embedder,
        "wall_s": round(time.monotonic() - started_all, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "web_node_peak_rss_mb": web["node_peak_rss_mb"],
        "load_avg": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
