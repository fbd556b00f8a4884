"""Term bags: a paper's useful words and two-word sequences with their counts, stored per
paper (``paper_terms``) so that similar papers can re-rank a few hundred candidates by tf-idf
cosine without reading and splitting their abstracts at query time.

A bag is stored as the sorted 32-bit hashes (CRC-32) of its terms, little-endian, followed by
one count byte per term (capped at 255). A collision merges two terms of a few million; the
re-ranking is approximate anyway. ``paperroute embed`` makes the missing bags; the store
drops a paper's bag when its title or abstract changes (store/writer.py), and a candidate
without a bag is split from its text at query time (same result, slower).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite

from ..store.schema import papers
from ..store.schema_vectors import paper_terms

U32 = npt.NDArray[np.uint32]
F64 = npt.NDArray[np.float64]
Bag = tuple[U32, npt.NDArray[np.uint8]]  # sorted term hashes, their counts

# Letters and digits, as split_words without its per-word normalisation (which costs more
# than the whole re-ranking; every text is split alike).
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"^[0-9]+$")
_BATCH = 2000
_MISSING = "FROM papers p WHERE NOT EXISTS (SELECT 1 FROM paper_terms t WHERE t.paper_pk = p.pk)"
_MISSING_COUNT = f"SELECT count(*) {_MISSING}"
# Words that say nothing about a paper's subject.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "over",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "those",
        "through",
        "to",
        "under",
        "via",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "within",
        "without",
        "using",
        "based",
        "paper",
        "propose",
        "proposed",
        "show",
        "shows",
        "results",
        "method",
        "methods",
        "approach",
        "new",
        "two",
        "one",
        "also",
        "both",
        "each",
        "more",
        "most",
        "other",
        "only",
        "very",
        "well",
        "may",
        "however",
    ]
)


def useful(word: str) -> bool:
    """A word worth weighing: longer than two characters, ASCII, not a stop word or a
    number."""
    return len(word) > 2 and word not in STOP_WORDS and not _DIGITS.match(word) and word.isascii()


def useful_words(text: str) -> list[str]:
    """The useful words of ``text`` in order, as the bags hold them."""
    tokens = _WORD.findall(text.casefold())
    keep = {w for w in set(tokens) if useful(w)}
    return [w for w in tokens if w in keep]


def term_counts(title: str, abstract: str) -> Counter[str]:
    """Useful words and two-word sequences ("a b") of a paper's text, with their counts."""
    words = useful_words(f"{title} {abstract}")
    counts = Counter(words)
    counts.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return counts


def term_hash(term: str) -> int:
    return zlib.crc32(term.encode("utf-8", "surrogatepass"))


def make_bag(counts: Mapping[str, int]) -> Bag:
    merged: Counter[int] = Counter()
    for term, count in counts.items():
        merged[term_hash(term)] += count
    ids = np.fromiter(sorted(merged), dtype=np.uint32, count=len(merged))
    values = np.fromiter((min(merged[i], 255) for i in ids.tolist()), np.uint8, len(merged))
    return ids, values


def encode_bag(bag: Bag) -> bytes:
    ids, counts = bag
    return ids.astype("<u4").tobytes() + counts.astype(np.uint8).tobytes()


def decode_bag(blob: bytes) -> Bag:
    """A stored bag; a blob of the wrong size raises ValueError."""
    if len(blob) % 5:
        raise ValueError("a stored term bag is not 5 bytes a term")
    n = len(blob) // 5
    ids = np.frombuffer(blob, dtype="<u4", count=n).astype(np.uint32)
    return ids, np.frombuffer(blob, dtype=np.uint8, offset=4 * n).copy()


def load_bags(connection: Connection, pks: Sequence[int]) -> dict[int, Bag]:
    """The bags of ``pks``: stored ones, and the others made from the papers' text."""
    if not pks:
        return {}
    wanted = list(dict.fromkeys(int(pk) for pk in pks))
    rows: list[tuple[int, bytes]] = []
    params: tuple[object, ...]
    for start in range(0, len(wanted), _BATCH):
        part = wanted[start : start + _BATCH]
        # Driver SQL: a statement with an expanding IN costs more to run than its rows.
        if connection.dialect.name == "sqlite":
            marks = ",".join("?" * len(part))
            sql, params = (
                f"SELECT paper_pk, terms FROM paper_terms WHERE paper_pk IN ({marks})",
                tuple(part),
            )
        else:
            sql, params = (
                "SELECT paper_pk, terms FROM paper_terms WHERE paper_pk = ANY(%s)",
                (part,),
            )
        rows.extend((int(pk), bytes(blob)) for pk, blob in connection.exec_driver_sql(sql, params))
    bags: dict[int, Bag] = {}
    for pk, blob in rows:
        with contextlib.suppress(ValueError):  # a damaged bag: made again from the text below
            bags[pk] = decode_bag(blob)
    missing = [pk for pk in wanted if pk not in bags]
    if missing:
        text_rows = connection.execute(
            select(papers.c.pk, papers.c.title, papers.c.abstract).where(papers.c.pk.in_(missing))
        )
        for pk, title, abstract in text_rows:
            bags[int(pk)] = make_bag(term_counts(title or "", abstract or ""))
    return bags


def bags_after(connection: Connection, after_pk: int, limit: int) -> list[tuple[int, Bag]]:
    """The stored bags of the ``limit`` papers with the lowest pks above ``after_pk``, by pk
    (a damaged one as an empty bag): every stored bag, read a page at a time."""
    rows = connection.execute(
        text(
            "SELECT paper_pk, terms FROM paper_terms WHERE paper_pk > :after "
            "ORDER BY paper_pk LIMIT :n"
        ),
        {"after": after_pk, "n": limit},
    )
    out: list[tuple[int, Bag]] = []
    for pk, blob in rows:
        try:
            bag = decode_bag(bytes(blob))
        except ValueError:
            bag = (np.zeros(0, np.uint32), np.zeros(0, np.uint8))
        out.append((int(pk), bag))
    return out


def count_bags(connection: Connection, after_pk: int = 0) -> int:
    """How many papers above ``after_pk`` have a stored bag."""
    found = connection.execute(
        text("SELECT count(*) FROM paper_terms WHERE paper_pk > :after"), {"after": after_pk}
    ).scalar()
    return int(found or 0)


def store_missing_bags(
    engine: Engine,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Make and store the bag of every paper without one, a transaction per batch (an
    interruption keeps the finished ones); returns how many were made. ``on_start`` gets
    how many are missing."""
    if on_start is not None:
        with engine.connect() as connection:
            on_start(int(connection.execute(text(_MISSING_COUNT)).scalar() or 0))
    made = 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                text(f"SELECT p.pk, p.title, p.abstract {_MISSING} ORDER BY p.pk LIMIT :n"),
                {"n": _BATCH},
            ).all()
            if not rows:
                return made
            # Another `paperroute embed` may store the same bags meanwhile: theirs stay.
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            connection.execute(
                dialect.insert(paper_terms).on_conflict_do_nothing(index_elements=["paper_pk"]),
                [
                    {
                        "paper_pk": pk,
                        "terms": encode_bag(make_bag(term_counts(title or "", abstract or ""))),
                    }
                    for pk, title, abstract in rows
                ],
            )
        made += len(rows)
        if progress is not None:
            progress(len(rows))


def tfidf_cosines(
    source: Mapping[str, int],
    idf: Mapping[str, float],
    bags: Sequence[Bag],
) -> F64:
    """The tf-idf cosine (sublinear tf) of each bag with the source paper's terms. Only the
    source's terms have document frequencies (``idf``, every key of ``source``): a
    candidate's other terms enter its norm at the mean idf of the source's terms."""
    if not bags or not source:
        return np.zeros(len(bags), dtype=np.float64)
    return SourceWeights(source, idf).cosines(bags)


class SourceWeights:
    """The source paper's side of tfidf_cosines, made once: its terms' hashes, idf and
    weights, for the cosines of several lists of bags (each bag's cosine is the same
    whichever list it comes in)."""

    def __init__(self, source: Mapping[str, int], idf: Mapping[str, float]) -> None:
        weights: Counter[int] = Counter()
        idf_of: dict[int, float] = {}
        for term, count in source.items():
            key = term_hash(term)
            weights[key] += count
            idf_of[key] = max(idf_of.get(key, 0.0), idf[term])
        self.ids = np.fromiter(sorted(weights), dtype=np.uint32, count=len(weights))
        self.idf = np.array([idf_of[i] for i in self.ids.tolist()], dtype=np.float64)
        self.weights = (1.0 + np.log([weights[i] for i in self.ids.tolist()])) * self.idf
        self.norm = math.sqrt(float(self.weights @ self.weights)) or 1.0
        self.typical = sum(idf.values()) / len(idf) if idf else 0.0

    def cosines(self, bags: Sequence[Bag]) -> F64:
        out = np.zeros(len(bags), dtype=np.float64)
        if not bags or not len(self.ids):
            return out
        src_ids, src_idf, src_w, typical = self.ids, self.idf, self.weights, self.typical
        ids = np.concatenate([bag[0] for bag in bags])
        sub = 1.0 + np.log(np.concatenate([bag[1] for bag in bags]).astype(np.float64))
        owner = np.repeat(np.arange(len(bags)), [len(bag[0]) for bag in bags])
        at = np.minimum(np.searchsorted(src_ids, ids), len(src_ids) - 1)
        hit = src_ids[at] == ids
        # Every term at the typical weight, then the source's own terms corrected.
        squares = typical * typical * np.bincount(owner, weights=sub * sub, minlength=len(bags))
        matched = at[hit]
        sub_hit = sub[hit]
        squares += np.bincount(
            owner[hit],
            weights=sub_hit * sub_hit * (src_idf[matched] ** 2 - typical * typical),
            minlength=len(bags),
        )
        dot = np.bincount(
            owner[hit], weights=sub_hit * src_idf[matched] * src_w[matched], minlength=len(bags)
        )
        positive = squares > 0
        out[positive] = dot[positive] / (self.norm * np.sqrt(squares[positive]))
        return out
