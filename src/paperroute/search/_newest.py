"""The newest papers' keyword-index lexemes held in memory (PostgreSQL), for the newest
papers that hold some words (_pg_keyword.newest_with_words).

The phrase tier and the ranking of many matches look among the newest papers with a
query's words. PostgreSQL's GIN index reads each word's whole posting list to find them,
whatever the window: at 1M papers "task level performance prediction" (5,900 papers with
its words, "performance" in 200,000) took 36 ms, "in L^p spaces" 47 ms. Here the newest
NEWEST_PAPERS papers' lexemes (evaluated with the server's own tsquery text, so stemming
and stop words are the index's) answer in about a millisecond; older papers are asked of
the database only when these hold too few.

Read at a server's start and again hourly (on the search pool, never on a request), for the
papers newer than those held when a search sees one (that search asks the database
meanwhile), and, every CHECK_EVERY seconds of use, for the papers written since the last
look (``modified_at``: a new arXiv version reworded in place, or a write that committed
after the look), which are held apart and stand for their chunk's old lexemes. At 1M
papers: 8.9 s of reading and parsing, 62 MB held."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, bindparam, text

from ..clock import Clock, utcnow
from ._sample import I64, Node, Unsupported, unquote

# A tsvector's lexemes, as PostgreSQL writes them ('word':1A,5 'it''s':3).
_QUOTED = re.compile(r"'((?:[^'\\]|''|\\.)*)'")

# Papers whose terms are held: the newest this many pks.
NEWEST_PAPERS = 100_000
# Papers read and parsed at a time (one _Chunk each).
CHUNK = 10_000
# Seconds between looks for papers written since (refresh); each look goes back MARGIN
# before the previous one (a write's time is taken before it commits).
CHECK_EVERY = 10.0
MARGIN = dt.timedelta(minutes=2)


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
    # Papers written since their chunk was read (reworded, or committed late): their
    # lexemes now (``changed``), which stand for the chunks' (``stale``: their pks, sorted).
    changed: _Chunk | None = None
    stale: I64 = field(default_factory=lambda: np.zeros(0, np.int64))


class NewestTerms:
    """See the module docstring. Thread-safe: a search reads what is held while a worker
    reads anew (swapped in whole)."""

    def __init__(
        self, papers: int = NEWEST_PAPERS, max_age: float = 3600.0, clock: Clock = utcnow
    ) -> None:
        self.papers = papers
        self.max_age = max_age
        self.clock = clock
        self._held: _Held | None = None
        self._read_at = -1e18
        self._checked = -1e18
        self._looked: dt.datetime | None = None  # the last look at papers written since
        self._seen: dict[int, dt.datetime] = {}  # papers read as written since, and when
        self.behind = False  # a search saw papers newer than those held
        self._sqlite = False  # (nothing held, nothing due)
        self._reading = threading.Lock()

    def due(self) -> bool:
        """Whether a read is wanted: never read, read over ``max_age`` ago, behind, or not
        looked for papers written since in CHECK_EVERY."""
        now = time.monotonic()
        return not self._sqlite and (
            self.behind or now - self._read_at > self.max_age or now - self._checked > CHECK_EVERY
        )

    def refresh(self, connection: Connection) -> None:
        """Read the newest papers' terms when due (PostgreSQL only): all of them once in
        ``max_age`` (or when the papers written since are a tenth of those held), otherwise
        the papers newer than those held, and again those written since the last look
        (``modified_at``, looking back MARGIN before it: a write's time is taken before it
        commits)."""
        self._sqlite = connection.dialect.name == "sqlite"
        if not self.due():
            return
        with self._reading:
            looked = self.clock()
            self._checked = time.monotonic()
            held = self._held
            full = held is None or time.monotonic() - self._read_at > self.max_age
            newest = int(connection.execute(text("SELECT max(pk) FROM papers")).scalar() or 0)
            fresh: set[int] = set()  # written since, and not as read then
            read: dict[int, dt.datetime] = {}  # each paper read, as of when it was written
            if not full and held is not None and self._looked is not None:
                rows = connection.execute(
                    text(
                        "SELECT pk, modified_at FROM papers WHERE modified_at > :since "
                        "AND pk > :low AND pk <= :high"
                    ),
                    {"since": self._looked - MARGIN, "low": held.low, "high": held.high},
                )
                fresh = {int(row[0]) for row in rows if self._seen.get(int(row[0])) != row[1]}
                if not fresh and newest <= held.high:
                    self._looked, self.behind = looked, False
                    return
                full = len(set(held.stale.tolist()) | fresh) * 10 > newest - held.low
            if full or held is None:
                chunks: list[_Chunk] = []
                low = max(0, newest - self.papers)
                changed, stale = None, np.zeros(0, np.int64)
            else:
                chunks, low = list(held.chunks), held.low
                below = chunks[-2].high if len(chunks) > 1 else low
                if newest > held.high and chunks and chunks[-1].high - below < CHUNK:
                    chunks.pop()  # (a partial chunk read again with the newer papers)
                pks = sorted(set(held.stale.tolist()) | fresh)
                changed = _read_pks(connection, pks, held.high, read) if pks else None
                stale = np.asarray(pks, dtype=np.int64)
            start = chunks[-1].high if chunks else low
            while start < newest:
                end = min(newest, start + CHUNK)
                chunks.append(_read(connection, start, end, read))
                start = end
            while len(chunks) > 1 and newest - chunks[0].high >= self.papers:
                low = chunks.pop(0).high  # (the others hold enough)
            self._held = _Held(tuple(chunks), low, newest, changed, stale)
            if full:
                self._read_at = time.monotonic()
                self._seen = {}
            # (Only those that a look back MARGIN could see again: as read, not again.)
            since = looked - MARGIN
            self._seen = {pk: at for pk, at in {**self._seen, **read}.items() if at > since}
            self._looked, self.behind = looked, False

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
        changed = np.zeros(0, np.int64)
        if held.changed is not None:
            changed = held.changed.pks[held.changed.matching(tree)]
        found: list[int] = []
        for at, chunk in reversed(list(enumerate(held.chunks))):
            matched = chunk.pks[chunk.matching(tree)]
            if len(held.stale):
                below = held.chunks[at - 1].high if at else held.low
                ours = changed[(changed > below) & (changed <= chunk.high)]
                matched = np.union1d(matched[~np.isin(matched, held.stale)], ours)
            found += matched[::-1][: n - len(found)].tolist()
            if len(found) >= n:
                break
        return found, held.low


def _read(connection: Connection, low: int, high: int, read: Written) -> _Chunk:
    """The lexemes of the papers with a pk in (low, high], each one's ``modified_at`` put
    in ``read``."""
    return _chunk(
        connection,
        "SELECT pk, search_vector::text, modified_at FROM papers "
        "WHERE pk > :low AND pk <= :high ORDER BY pk",
        {"low": low, "high": high},
        high,
        read,
    )


def _read_pks(connection: Connection, pks: list[int], high: int, read: Written) -> _Chunk:
    """The lexemes of the papers with these pks (those that still exist), as _read."""
    return _chunk(
        connection,
        "SELECT pk, search_vector::text, modified_at FROM papers WHERE pk IN :pks ORDER BY pk",
        {"pks": pks},
        high,
        read,
    )


def _chunk(
    connection: Connection, sql: str, params: dict[str, Any], high: int, read: Written
) -> _Chunk:
    statement = text(sql)
    if "pks" in params:
        statement = statement.bindparams(bindparam("pks", expanding=True))
    rows = connection.execute(statement, params).all()
    read.update((int(row[0]), row[2]) for row in rows)
    return chunk_of([(int(row[0]), str(row[1] or "")) for row in rows], high)


Written = dict[int, dt.datetime]


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
