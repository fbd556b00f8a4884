"""Helpers the benchmark scripts share (run as ``python benchmarks/<name>.py``, so this
module imports as ``_common``)."""

from __future__ import annotations

import gzip
import json
import resource
import socket
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from paperroute.recommend import RankSettings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def long_abstracts(corpus: Path, count: int) -> list[str]:
    """The first ``count`` corpus papers' "title. abstract" texts long enough to fill 128
    tokens (for embedding throughput)."""
    texts: list[str] = []
    with gzip.open(corpus, "rb") as lines:
        for line in lines:
            record = json.loads(line)
            if len(record["summary"]) > 1000:
                texts.append(f"{record['title']}. {record['summary']}")
            if len(texts) >= count:
                break
    return texts


def hf_dump_items(path: Path) -> Iterator[Any]:
    """Every item of every JSON list in a Hugging Face daily-papers dump (a tar of
    ``*.json`` files); members that are not JSON lists are skipped."""
    with tarfile.open(path) as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is None or not member.name.endswith(".json"):
                continue
            try:
                items = json.loads(handle.read())
            except ValueError:
                continue
            yield from items if isinstance(items, list) else []


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``--set name=value`` items as RankSettings overrides (the recommend benchmarks)."""
    known = {f.name: f.type for f in fields(RankSettings)}
    out: dict[str, Any] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in known:
            raise SystemExit(f"--set: no setting {name!r} (known: {', '.join(known)})")
        out[name] = int(value) if known[name] in ("int", int) else float(value)
    return out
