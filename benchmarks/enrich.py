"""arXiv enrichment throughput: ``hub.upkeep.enrich`` over the demo data's 270 papers known
only from Hugging Face, against a local HTTP server on 127.0.0.1 that answers like the arXiv
API (each answer an Atom feed of one recorded arXiv entry per asked id, the id substituted),
with pacing disabled; then a short run at arXiv's real pace (``arxiv_min_interval`` 3 s).

    python benchmarks/enrich.py [--database-url URL] [--batch 50]

Builds a fresh demo database (``paperroute demo load``) in a temporary folder unless
``--database-url`` names a copy of one (it is written to). Prints papers enriched per second
(unpaced: what the parse, merge and write cost; paced: what arXiv's 3 s between requests
allows) and the peak memory; the last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from _common import peak_rss_mb
from paperroute import Config, open_hub

RECORDED = (
    Path(__file__).parents[1] / "tests/data/arxiv-api/id_1605.08386_s0_m100_199195aa31ad.json"
)


def _entry_template() -> str:
    body = json.loads(RECORDED.read_text(encoding="utf-8"))["body"].encode("latin-1").decode()
    entry = re.search(r"<entry>.*?</entry>", body, re.S)
    assert entry is not None
    return entry.group(0).replace("1605.08386", "{id}")


def _feed(ids: list[str], template: str) -> bytes:
    entries = "".join(template.replace("{id}", i) for i in ids)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">'
        f"<opensearch:totalResults>{len(ids)}</opensearch:totalResults>"
        f"<opensearch:startIndex>0</opensearch:startIndex>{entries}</feed>"
    ).encode()


def serve(template: str) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
            body = _feed(ids, template)
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host!s}:{port}/api/query"


def _reset(url: str) -> None:
    """Forget earlier enrichment (a re-run of the benchmark on the same copy)."""
    from sqlalchemy import delete

    from paperroute.store.schema import provenance
    from paperroute.store.schema_upkeep import enrich_state

    with open_hub(Config(database_url=url)) as hub, hub._db.write() as connection:
        connection.execute(delete(enrich_state))
        connection.execute(delete(provenance).where(provenance.c.source == "arxiv-api"))


def run(url: str, api: str, batch: int, interval: float, limit: int | None) -> dict[str, float]:
    config = Config(
        database_url=url, arxiv_api_url=api, arxiv_min_interval=interval, enrich_batch_size=batch
    )
    with open_hub(config) as hub:
        started = time.perf_counter()
        report = hub.upkeep.enrich(limit=limit, infer_after=False)
        seconds = time.perf_counter() - started
    if report.failed or report.errors:
        raise SystemExit(f"enrichment failed: {report.errors[:3]}")
    return {"papers": report.enriched, "requests": report.requests, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    server, api = serve(_entry_template())
    with tempfile.TemporaryDirectory(prefix="paperroute-enrich-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        if not args.database_url:
            env = {**os.environ, "PAPERROUTE_DATABASE_URL": url}
            env.pop("PAPERROUTE_CONFIG", None)
            command = [sys.executable, "-m", "paperroute", "demo", "load"]
            subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        _reset(url)
        fast = run(url, api, args.batch, 0.0, None)
        _reset(url)
        paced = run(url, api, args.batch, 3.0, 3 * args.batch)
    server.shutdown()
    figures = {
        "enrich_per_s": round(fast["papers"] / fast["seconds"], 1),
        "enrich_papers": fast["papers"],
        "enrich_requests": fast["requests"],
        "enrich_seconds": round(fast["seconds"], 2),
        "enrich_paced_per_s": round(paced["papers"] / paced["seconds"], 2),
        "enrich_paced_papers": paced["papers"],
        "enrich_paced_seconds": round(paced["seconds"], 2),
        # A long run at arXiv's pace: one batch every 3 s, unless a batch takes longer.
        "enrich_paced_steady_per_s": round(
            args.batch / max(3.0, fast["seconds"] / max(1, fast["requests"])), 2
        ),
        "batch": args.batch,
        "peak_rss_mb": round(peak_rss_mb()),
    }
    print(
        f"unpaced: {fast['papers']} papers in {fast['seconds']:.2f} s "
        f"({figures['enrich_per_s']} papers/s, {fast['requests']} requests); paced (3 s): "
        f"{paced['papers']} papers in {paced['seconds']:.2f} s "
        f"({figures['enrich_paced_per_s']} papers/s); peak memory {figures['peak_rss_mb']} MB"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
