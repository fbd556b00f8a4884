"""Bulk import speed: the 200k-paper corpus into a fresh database, keyword index included.

    python benchmarks/ingest.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz [--breakdown]

Loads PATH into a fresh SQLite database in a temporary folder (or into the PostgreSQL
database named by PAPERROUTE_DATABASE_URL, which must be empty), then loads it again (nothing
new), the way `paperroute ingest jsonl` does: parsed in a second process while this one
writes. ``--breakdown`` also times parsing alone and writing without the keyword index, to
show where the time goes. The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from _common import peak_rss_mb
from paperroute import Config, open_hub
from paperroute.ingest import _jsonl_items, ingest_jsonl
from paperroute.store.schema import papers


class ChildPeak(threading.Thread):
    """The largest VmHWM of this process's children (the background parser), sampled.

    ru_maxrss of children would count the parent's image that a child holds between fork
    and exec; VmHWM belongs to the child's own address space."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.running = True

    def run(self) -> None:
        me = str(os.getpid())
        while self.running:
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    text = status.read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
                if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                    self.peak_kb = max(self.peak_kb, int(fields["VmHWM"].split()[0]))
            time.sleep(0.5)


def _load(url: str, path: Path, *, fts: bool = True) -> tuple[int, float, float]:
    with open_hub(Config(database_url=url)) as hub:
        with hub._db.engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(papers)):
                sys.exit(f"{url} is not empty: the benchmark needs a fresh database")
        if not fts:
            with hub._db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TRIGGER papers_fts_insert")
        start = time.perf_counter()
        first = ingest_jsonl(hub, [path])
        first_s = time.perf_counter() - start
        if not fts:
            return first.inserted, first_s, 0.0
        start = time.perf_counter()
        second = ingest_jsonl(hub, [path])
        second_s = time.perf_counter() - start
        if second.inserted or second.updated:
            sys.exit(f"the second run changed papers: {second}")
        return first.inserted + first.updated + first.unchanged, first_s, second_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("path", type=Path)
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("PAPERROUTE_DATABASE_URL")
    sampler = ChildPeak()
    sampler.start()
    with tempfile.TemporaryDirectory(prefix="paperroute-bench-") as folder:
        target = url or f"sqlite:///{Path(folder) / 'bench.db'}"
        backend = target.split(":", 1)[0]
        count, first_s, second_s = _load(target, args.path)
        print(f"{backend}: {count:,} papers in {first_s:.1f} s = {count / first_s:,.0f} papers/s")
        print(f"re-run (nothing new): {second_s:.1f} s = {count / second_s:,.0f} papers/s")
        figures = {
            "papers": count,
            "papers_per_s": round(count / first_s),
            "rerun_papers_per_s": round(count / second_s),
        }
        if args.breakdown:
            start = time.perf_counter()
            parsed = sum(1 for _ in _jsonl_items(args.path))
            parse_s = time.perf_counter() - start
            print(f"parsing alone (one process): {parse_s:.1f} s = {parsed / parse_s:,.0f} /s")
            figures["parse_only_per_s"] = round(parsed / parse_s)
            if url is None:
                scratch = f"sqlite:///{Path(folder) / 'nofts.db'}"
                _, nofts_s, _ = _load(scratch, args.path, fts=False)
                print(f"without the keyword index: {nofts_s:.1f} s = {count / nofts_s:,.0f} /s")
                figures["no_keyword_index_papers_per_s"] = round(count / nofts_s)
        if url is None:
            size = sum(p.stat().st_size for p in Path(folder).glob("bench.db*"))
            print(f"database size: {size / 2**20:,.0f} MB")
    sampler.running = False
    writer_mb = peak_rss_mb()
    parser_mb = sampler.peak_kb / 1024
    print(f"peak memory: writer {writer_mb:,.0f} MB, parser process {parser_mb:,.0f} MB")
    figures["peak_rss_mb"] = round(writer_mb + parser_mb)
    figures["backend"] = backend  # type: ignore[assignment]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
