"""The newest papers' keyword-index lexemes held in memory (PostgreSQL), for the newest
papers that hold some words (_pg_keyword.newest_with_words).

The phrase tier and the ranking of many matches look among the newest papers with a
query's words. PostgreSQL's GIN index reads each word's whole posting list to find them,
whatever the window: at 1M papers "task level performance prediction" (5,900 papers with
its words, "performance" in 200,000) took 36 ms, "in L^p spaces" 47 ms. Here the newest
NEWEST_PAPERS papers' lexemes (evaluated with the server's own tsquery text, so stemming
and stop words are the index's) answer in about a millisecond; older papers are asked of
the database only when these hold too few.

Read at a server's start and again hourly (a full read: a paper's text changed in place is
seen then), and for the papers newer than those held when a search sees one (that search
asks the database instead). At 1M papers: 8.9 s of reading and parsing, 62 MB held."""

from __future__ import annotations

import re
import threading
import time
from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

from ._sample import I64, Node, Unsupported, unquote

# A tsvector's lexemes, as PostgreSQL writes them ('word':1A,5 'it''s':3).
_QUOTED = re.compile(r"'((?:[^'\\]|''|\\.)*)'")

# Papers whose terms are held: the newest this many pks.
NEWEST_PAPERS = 100_000
# Papers read and parsed at a time (one _Chunk each).
CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Some papers' lexemes: each lexeme's ``hash()`` (sorted; a collision is as rare as a
    64-bit one, and every paper found is tested by the database again), where its papers
    begin in ``papers`` (``starts``), the papers (their places here, ascending within a
    lexeme), each place's ``pk``, and the highest pk it covers. Positions are not held
    (the sample's 14 MB a 10,000 papers with them, 6 with these): a phrase is read as its
    words."""

    hashes: I64
    starts: I64
    papers: npt.NDArray[np.int32]
    pks: I64
    high: int

    def matching(self, tree: Node) -> Places:
        """The places of the papers that match a parsed tsquery, its phrases read as their
        words (so: at least those that match); Unsupported for a prefix."""
        try:
            return self._papers(tree)
        except RecursionError as exc:
            raise Unsupported("a tsquery nested too deep") from exc

    def _papers(self, node: Node) -> Places:
        kind = node[0]
        if kind == "lexeme":
            if node[2]:
                raise Unsupported("a prefix")
            key = hash(node[1])
            at = int(np.searchsorted(self.hashes, key))
            if at < len(self.hashes) and self.hashes[at] == key:
                return self.papers[self.starts[at] : self.starts[at + 1]]
            return _NONE
        if kind == "not":
            return np.setdiff1d(np.arange(len(self.pks), dtype=np.int32), self._papers(node[1]))
        operands: list[Node] = []  # (a chain of one operator nests to the left: walked)
        same = ("and", "phrase") if kind in ("and", "phrase") else (kind,)
        while node[0] in same:
            operands.append(node[2])
            node = node[1]
        operands.append(node)
        if kind == "phrase" and any(_negates(operand) for operand in operands):
            raise Unsupported("an exclusion inside a phrase")  # (its words: not at least it)
        # (A word stemmed and as it is are often the same lexeme: ('data' | 'data').)
        found = [self._papers(operand) for operand in dict.fromkeys(operands)]
        if kind == "or":
            found = [places for places in found if len(places)]
            if len(found) < 2:
                return found[0] if found else _NONE
            return np.unique(np.concatenate(found))
        # Both in: the fewest first, each next one looked up in sorted order (no sort).
        found.sort(key=len)
        places = found[0]
        for other in found[1:]:
            if not len(places):
                break
            where = np.minimum(np.searchsorted(other, places), len(other) - 1)
            places = places[other[where] == places]
        return places


def _negates(node: Node) -> bool:
    """Whether a parsed tsquery holds a ! anywhere."""
    pending = [node]
    while pending:
        node = pending.pop()
        if node[0] == "not":
            return True
        if node[0] != "lexeme":
            pending += [node[1], node[2]]
    return False


Places = npt.NDArray[np.int32]
_NONE: Places = np.zeros(0, np.int32)


@dataclass(frozen=True, slots=True)
class _Held:
    chunks: tuple[_Chunk, ...]  # oldest first
    low: int  # papers with a pk above this one are held (0: every paper)
    high: int  # up to this one


class NewestTerms:
    """See the module docstring. Thread-safe: a search reads what is held while a worker
    reads anew (swapped in whole)."""

    def __init__(self, papers: int = NEWEST_PAPERS, max_age: float = 3600.0) -> None:
        self.papers = papers
        self.max_age = max_age
        self._held: _Held | None = None
        self._read_at = -1e18
        self.behind = False  # a search saw papers newer than those held
        self._reading = threading.Lock()

    def due(self) -> bool:
        """Whether a read is wanted: never read, read over ``max_age`` ago, or behind."""
        return self.behind or time.monotonic() - self._read_at > self.max_age

    def refresh(self, connection: Connection) -> None:
        """Read the newest papers' terms when due (PostgreSQL only): all of them once in
        ``max_age``, otherwise only the papers newer than those held."""
        if connection.dialect.name == "sqlite" or not self.due():
            return
        with self._reading:
            held = self._held
            full = held is None or time.monotonic() - self._read_at > self.max_age
            newest = int(connection.execute(text("SELECT max(pk) FROM papers")).scalar() or 0)
            if full or held is None:
                chunks: list[_Chunk] = []
                low = max(0, newest - self.papers)
            else:
                chunks, low = list(held.chunks), held.low
            start = chunks[-1].high if chunks else low
            while start < newest:
                end = min(newest, start + CHUNK)
                chunks.append(_read(connection, start, end))
                start = end
            while len(chunks) > 1 and newest - chunks[0].high >= self.papers:
                low = chunks.pop(0).high  # (the others hold enough)
            self._held = _Held(tuple(chunks), low, newest)
            if full:
                self._read_at = time.monotonic()
            self.behind = False

    def newest(self, tree: Node, n: int, newest: int) -> tuple[list[int], int] | None:
        """The pks of the newest ``n`` held papers that match the parsed tsquery ``tree``
        (newest first), and the pk below which papers are not held (0: every one is); None
        when nothing is held or the database's ``newest`` pk is beyond those held (then
        ``behind`` is set, for the caller to have them read)."""
        held = self._held
        if held is None:
            return None
        if newest > held.high:
            self.behind = True
            return None
        found: list[int] = []
        for chunk in reversed(held.chunks):
            matched = chunk.pks[chunk.matching(tree)]
            found += matched[::-1][: n - len(found)].tolist()
            if len(found) >= n:
                break
        return found, held.low


def _read(connection: Connection, low: int, high: int) -> _Chunk:
    """The lexemes of the papers with a pk in (low, high]."""
    rows = connection.execute(
        text(
            "SELECT pk, search_vector::text FROM papers WHERE pk > :low AND pk <= :high ORDER BY pk"
        ),
        {"low": low, "high": high},
    ).all()
    return chunk_of([(int(row[0]), str(row[1] or "")) for row in rows], high)


def chunk_of(vectors: list[tuple[int, str]], high: int) -> _Chunk:
    """The lexemes of papers given as (pk, tsvector as PostgreSQL writes it), ascending."""
    counts: list[int] = []
    hashed = array("q")
    for _, vector in vectors:
        found = _QUOTED.findall(vector)
        counts.append(len(found))
        hashed.extend(map(hash, map(unquote, found)))
    hashes = np.frombuffer(hashed, dtype=np.int64)
    places = np.repeat(np.arange(len(vectors), dtype=np.int64), counts)
    order = np.lexsort((places, hashes))
    distinct, starts = np.unique(hashes[order], return_index=True)
    return _Chunk(
        distinct.astype(np.int64),
        np.append(starts, len(order)).astype(np.int64),
        places[order].astype(np.int32),
        np.asarray([pk for pk, _ in vectors], dtype=np.int64),
        high,
    )
