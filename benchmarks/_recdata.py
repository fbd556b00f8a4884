"""The data of ``recommend_quality.py``: one category's slice of the 200k corpus, the
author cases (library = earlier papers, targets = later ones), MiniLM vectors cached on disk.

Imported as ``_recdata`` by the benchmark scripts (run as ``python benchmarks/<name>.py``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import time
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperroute.ids import fold_name
from paperroute.search.embedder import load_embedder


@dataclass(frozen=True, slots=True)
class Doc:
    id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    day: dt.date

    @property
    def text(self) -> str:
        return f"{self.title}. {self.abstract}"


@dataclass(frozen=True, slots=True)
class Case:
    """One author: ``library`` (positions in the slice, newest first, at most 20),
    ``targets`` (positions in the pool list)."""

    author: str
    library: tuple[int, ...]
    targets: frozenset[int]
    half: str  # "tune" or "report"


def load_slice(corpus: Path, category: str, cache: Path) -> list[Doc]:
    """The corpus papers listed in ``category`` (any of their categories), oldest first; the
    slice is cached as JSON lines in ``cache``."""
    path = cache / f"slice-{category}.jsonl.gz"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with gzip.open(corpus, "rb") as lines, gzip.open(path, "wt", encoding="utf-8") as out:
            for line in lines:
                record = json.loads(line)
                if category in record["categories"] and record["listing_dates"]:
                    keep = {k: record[k] for k in ("id", "title", "summary", "authors")}
                    keep["day"] = min(record["listing_dates"])
                    out.write(json.dumps(keep) + "\n")
    docs: list[Doc] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            r = json.loads(line)
            docs.append(
                Doc(
                    r["id"],
                    " ".join(r["title"].split()),
                    " ".join(r["summary"].split()),
                    tuple(r["authors"]),
                    dt.date.fromisoformat(r["day"]),
                )
            )
    docs.sort(key=lambda d: (d.day, d.id))
    return docs


def author_cases(
    docs: Sequence[Doc],
    pool: Sequence[int],
    split: dt.date,
    *,
    max_library: int = 20,
    min_library: int = 5,
    min_targets: int = 2,
) -> list[Case]:
    """Authors (folded names) with at least ``min_library`` papers before ``split`` and
    ``min_targets`` in the pool. The library is their newest ``max_library`` earlier papers
    (one per title); an author whose later papers are all shared with an author already
    taken (a co-authored duplicate of that case) is left out. Halves by a hash of the name."""
    earlier: dict[str, list[int]] = defaultdict(list)
    later: dict[str, set[int]] = defaultdict(set)
    shown: dict[str, str] = {}
    at_pool = {doc: n for n, doc in enumerate(pool)}
    for n, doc in enumerate(docs):
        for name in doc.authors:
            key = fold_name(name)
            if not key:
                continue
            shown.setdefault(key, name)
            if doc.day < split:
                earlier[key].append(n)
            elif n in at_pool:
                later[key].add(at_pool[n])
    cases: list[Case] = []
    taken: list[frozenset[int]] = []
    for key in sorted(later, key=lambda k: (-len(later[k]), k)):
        targets = frozenset(later[key])
        if len(targets) < min_targets or len(earlier[key]) < min_library:
            continue
        if any(targets <= other for other in taken):
            continue
        library: list[int] = []
        titles: set[str] = set()
        for n in sorted(earlier[key], key=lambda i: (docs[i].day, docs[i].id), reverse=True):
            title = docs[n].title.casefold()
            if title not in titles:
                titles.add(title)
                library.append(n)
            if len(library) == max_library:
                break
        half = "tune" if zlib.crc32(key.encode()) % 2 == 0 else "report"
        cases.append(Case(shown[key], tuple(library), targets, half))
        taken.append(targets)
    return cases


def cached_vectors(texts: Sequence[str], cache: Path, threads: int = 2) -> np.ndarray:
    """MiniLM (all-MiniLM-L6-v2, 128 tokens, the product's embedder) vectors of ``texts``,
    embedded in chunks of 1,024, each chunk cached in ``cache`` (an interrupted run resumes)."""
    cache.mkdir(parents=True, exist_ok=True)
    out = np.zeros((len(texts), 384), dtype=np.float32)
    embedder = None
    step = 1024
    started = time.perf_counter()
    fresh = 0
    for start in range(0, len(texts), step):
        chunk = list(texts[start : start + step])
        key = hashlib.blake2b("\x00".join(chunk).encode(), digest_size=12).hexdigest()
        path = cache / f"minilm-128-{key}.npy"
        if path.is_file():
            out[start : start + len(chunk)] = np.load(path)
            continue
        if embedder is None:
            embedder = load_embedder("all-MiniLM-L6-v2", 128, threads)
        vectors = embedder.embed(chunk).astype(np.float32)
        # Written aside then renamed: two benchmarks filling one cache never read half a file.
        part = path.with_name(f"{path.stem}.{os.getpid()}.part.npy")
        np.save(part, vectors)
        part.replace(path)
        out[start : start + len(chunk)] = vectors
        fresh += len(chunk)
        rate = fresh / (time.perf_counter() - started)
        print(f"  embedded {start + len(chunk):,}/{len(texts):,} ({rate:.0f}/s)", flush=True)
    return out
